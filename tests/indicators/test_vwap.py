"""Session VWAP and bands against the direct formula, TWAP with empty minutes, anchors across DST."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pytest

from fxhub.indicators import IndicatorConfig, compute_indicators, session_anchor

CONFIG = IndicatorConfig()


def _run(frame: pd.DataFrame, *, real_volume: bool = True, anchor: str = "cme", window: int = 5) -> Any:
    return compute_indicators(frame, real_volume=real_volume, anchor=anchor, config=CONFIG, window=window)  # type: ignore[arg-type]


def _direct_vwap(rows: Sequence[Sequence[float]]) -> tuple[float, float]:
    """DOMAIN §6 literally: VWAP = Σ TP·V / Σ V, σ = sqrt(Σ V·TP² / Σ V − VWAP²)."""
    sum_v = sum_pv = sum_p2v = 0.0
    for high, low, close, volume in rows:
        tp = (high + low + close) / 3
        sum_v += volume
        sum_pv += tp * volume
        sum_p2v += tp * tp * volume
    vwap = sum_pv / sum_v
    return vwap, math.sqrt(max(sum_p2v / sum_v - vwap * vwap, 0.0))


def test_session_vwap_and_bands_equal_the_direct_formula_on_real_6eh4(real_6eh4: pd.DataFrame) -> None:
    end = datetime(2024, 1, 17, 14, 30, tzinfo=UTC)  # a Wednesday, mid-session
    frame = real_6eh4.loc[: pd.Timestamp(end)].iloc[-3000:]
    result = _run(frame, window=120)
    anchor = datetime(2024, 1, 16, 23, 0, tzinfo=UTC)  # 17:00 Chicago (CST) the evening before
    assert result["vwap_anchor"] == "2024-01-16T23:00:00Z"
    session = frame.loc[pd.Timestamp(anchor) :]
    assert session.index[0] >= pd.Timestamp(anchor)
    vwap, sigma = _direct_vwap(list(session[["high", "low", "close", "volume"]].itertuples(index=False)))
    assert result["vwap"] == pytest.approx(vwap, rel=1e-12)
    # The textbook form loses digits to TP² ≈ 1.2 against a variance ~1e-7; the module uses the centred form.
    assert result["vwap_sigma"] == pytest.approx(sigma, rel=1e-5)
    for k in (1, 2):
        assert result[f"vwap_upper_{k}"] == pytest.approx(
            result["vwap"] + k * result["vwap_sigma"], rel=1e-15
        )
        assert result[f"vwap_lower_{k}"] == pytest.approx(
            result["vwap"] - k * result["vwap_sigma"], rel=1e-15
        )
    assert result["vwap_complete"] is True
    rolling_rows = list(frame.iloc[-120:][["high", "low", "close", "volume"]].itertuples(index=False))
    assert result["rolling_vwap"] == pytest.approx(_direct_vwap(rolling_rows)[0], rel=1e-12)


def test_vwap_sigma_equals_a_centred_direct_loop_exactly_enough(bars: Callable[..., pd.DataFrame]) -> None:
    closes = [1.1, 1.1004, 1.0998, 1.1012, 1.1007]
    volumes = [10.0, 3.0, 0.0, 25.0, 7.0]
    frame = bars("2024-01-17 14:00", closes, volumes=volumes)
    result = _run(frame)
    tps = [(c + 0.0002 + c - 0.0001 + c) / 3 for c in closes]
    vwap = sum(p * v for p, v in zip(tps, volumes, strict=True)) / sum(volumes)
    var = sum(v * (p - vwap) ** 2 for p, v in zip(tps, volumes, strict=True)) / sum(volumes)
    assert result["vwap"] == pytest.approx(vwap, rel=1e-14)
    assert result["vwap_sigma"] == pytest.approx(math.sqrt(var), rel=1e-9)


def test_twap_weights_minutes_equally_and_carries_the_close_through_gaps(
    bars: Callable[..., pd.DataFrame],
) -> None:
    # Bars at minutes 0, 1, 4: minutes 2 and 3 have no bar and carry the close of minute 1.
    frame = bars("2024-01-17 14:00", [1.10, 1.20, 1.40], minutes=[0, 1, 4], volumes=[5, 1, 1], spread=0)
    result = _run(frame, window=3)
    assert result["twap"] == pytest.approx((1.10 + 1.20 + 1.20 + 1.20 + 1.40) / 5, rel=1e-14)
    assert result["vwap"] == pytest.approx((5 * 1.10 + 1.20 + 1.40) / 7, rel=1e-14)


def test_without_real_volume_vwap_is_the_equal_minute_average_labelled_twap(
    bars: Callable[..., pd.DataFrame],
) -> None:
    frame = bars("2024-01-17 14:00", [1.10, 1.20, 1.40], minutes=[0, 1, 4], volumes=[500, 1, 1], spread=0)
    result = _run(frame, real_volume=False, anchor="fx", window=3)
    assert result["vwap_type"] == "twap"
    assert result["vwap_weighting"] == "equal per minute"
    assert result["vwap"] == result["twap"] == pytest.approx(1.22, rel=1e-14)
    prices = [1.10, 1.20, 1.20, 1.20, 1.40]
    sigma = math.sqrt(sum((p - 1.22) ** 2 for p in prices) / 5)
    assert result["vwap_sigma"] == pytest.approx(sigma, rel=1e-9)
    assert result["rolling_vwap"] == pytest.approx(1.22, rel=1e-14)


def test_real_volume_is_labelled_true_vwap(bars: Callable[..., pd.DataFrame]) -> None:
    result = _run(bars("2024-01-17 14:00", [1.1] * 5, volumes=[1, 2, 3, 4, 5]))
    assert (result["vwap_type"], result["vwap_weighting"]) == ("true_vwap", "real volume")


def test_a_session_without_traded_volume_has_no_vwap_but_a_twap(bars: Callable[..., pd.DataFrame]) -> None:
    result = _run(bars("2024-01-17 14:00", [1.1, 1.2], volumes=[0, 0]), window=2)
    assert result["vwap"] is None
    assert result["vwap_upper_2"] is None
    assert result["twap"] == pytest.approx(1.15 + 0.0001 / 3, rel=1e-12)


# (last bar UTC, expected fx anchor, expected cme anchor): either side of both 2024 US DST switches.
ANCHOR_CASES = [
    ("2024-03-08 15:00", "2024-03-07T22:00:00Z", "2024-03-07T23:00:00Z"),  # Friday, EST/CST
    ("2024-03-10 22:30", "2024-03-10T21:00:00Z", "2024-03-10T22:00:00Z"),  # Sunday open, first EDT/CDT day
    ("2024-03-11 15:00", "2024-03-10T21:00:00Z", "2024-03-10T22:00:00Z"),
    ("2024-11-01 15:00", "2024-10-31T21:00:00Z", "2024-10-31T22:00:00Z"),  # Friday, EDT/CDT
    ("2024-11-03 23:30", "2024-11-03T22:00:00Z", "2024-11-03T23:00:00Z"),  # Sunday open, first EST/CST day
    ("2024-11-04 15:00", "2024-11-03T22:00:00Z", "2024-11-03T23:00:00Z"),
]


@pytest.mark.parametrize(("last", "fx", "cme"), ANCHOR_CASES)
def test_session_anchor_across_both_dst_switches(last: str, fx: str, cme: str) -> None:
    t = pd.Timestamp(last, tz="UTC").to_pydatetime()
    assert session_anchor(t, "fx").strftime("%Y-%m-%dT%H:%M:%SZ") == fx
    assert session_anchor(t, "cme").strftime("%Y-%m-%dT%H:%M:%SZ") == cme


@pytest.mark.parametrize(("last", "fx", "cme"), ANCHOR_CASES)
@pytest.mark.parametrize("anchor", ["fx", "cme"])
def test_session_vwap_starts_exactly_at_the_anchor(last: str, fx: str, cme: str, anchor: str) -> None:
    expected = fx if anchor == "fx" else cme
    start = pd.Timestamp(expected.replace("Z", "+00:00"))
    end = pd.Timestamp(last, tz="UTC")
    # A bar one minute before the anchor at a wild price, then bars up to the last one at 1.0.
    index = pd.DatetimeIndex([start - pd.Timedelta(minutes=1), *pd.date_range(start, end, freq="min")])
    closes = [5.0] + [1.0] * (len(index) - 1)
    frame = pd.DataFrame(
        {
            "open": closes,
            "high": closes,
            "low": closes,
            "close": closes,
            "volume": [1000.0] + [1.0] * (len(index) - 1),
        },
        index=index,
    )
    result = _run(frame, anchor=anchor, window=1)
    assert result["vwap_anchor"] == expected
    assert result["vwap"] == pytest.approx(1.0, rel=1e-15)
    assert result["twap"] == pytest.approx(1.0, rel=1e-15)
    assert result["vwap_complete"] is True


def test_vwap_complete_is_false_when_the_frame_starts_after_the_anchor(
    bars: Callable[..., pd.DataFrame],
) -> None:
    result = _run(bars("2024-01-17 14:00", [1.1] * 5))
    assert result["vwap_anchor"] == "2024-01-16T23:00:00Z"
    assert result["vwap_complete"] is False
