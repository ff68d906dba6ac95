"""compute_indicators: input validation and a JSON-ready result with the documented keys."""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from fxhub.errors import ValidationError
from fxhub.indicators import IndicatorConfig, compute_indicators, warmup_bars

KEYS = {
    "vwap",
    "vwap_sigma",
    "vwap_upper_1",
    "vwap_lower_1",
    "vwap_upper_2",
    "vwap_lower_2",
    "vwap_anchor",
    "vwap_complete",
    "vwap_type",
    "vwap_weighting",
    "rolling_vwap",
    "rolling_vwap_sigma",
    "twap",
    "ema_9",
    "ema_21",
    "rsi",
    "adx",
    "atr",
    "volume_spike",
    "cumulative_delta",
    "cumulative_delta_window",
    "ofi_last",
    "ofi_window",
    "vpin",
    "periods",
    "window",
    "window_start",
    "window_end",
    "warmup_bars_required",
    "warmup_bars_available",
    "warmup_complete",
    "series",
}


def test_result_on_real_6eh4_has_every_key_and_is_strict_json(real_6eh4: pd.DataFrame) -> None:
    config = IndicatorConfig()
    frame = real_6eh4.iloc[-(warmup_bars(config) + 1440) :].copy()
    frame["buy_volume"] = (frame["volume"] * 0.5).round()
    frame["sell_volume"] = frame["volume"] - frame["buy_volume"]
    result = compute_indicators(frame, real_volume=True, anchor="cme", config=config, window=60)
    assert set(result) == KEYS
    json.dumps(result, allow_nan=False)
    assert set(result["series"]) == {"timestamps", "ema_9", "ema_21", "rsi", "adx", "atr"}
    assert result["vpin"]["buckets"] == 50
    assert result["window_end"] == "2024-01-31T23:58:00Z"


def test_ema_keys_follow_the_configured_periods(bars: Callable[..., pd.DataFrame]) -> None:
    frame = bars("2024-01-17 14:00", np.linspace(1.1, 1.2, 60))
    result = compute_indicators(
        frame, real_volume=True, anchor="cme", config=IndicatorConfig(ema_periods=(5, 12, 50)), window=10
    )
    assert {"ema_5", "ema_12", "ema_50"} <= set(result)
    assert "ema_9" not in result
    assert result["periods"]["ema"] == [5, 12, 50]


def test_a_window_shorter_than_the_lookback_gives_none_not_nan(bars: Callable[..., pd.DataFrame]) -> None:
    result = compute_indicators(
        bars("2024-01-17 14:00", [1.1, 1.2, 1.3]),
        real_volume=True,
        anchor="cme",
        config=IndicatorConfig(),
        window=3,
    )
    assert result["adx"] is None
    assert result["series"]["ema_21"] == [None, None, None]
    json.dumps(result, allow_nan=False)


def test_rejects_bad_input_naming_the_problem(bars: Callable[..., pd.DataFrame]) -> None:
    frame = bars("2024-01-17 14:00", [1.1, 1.2, 1.3])
    config = IndicatorConfig()

    def run(f: object, **kw: object) -> None:
        args: dict[str, object] = {"real_volume": True, "anchor": "cme", "config": config, "window": 2} | kw
        compute_indicators(f, **args)  # type: ignore[arg-type]

    with pytest.raises(ValidationError, match=r"frame.index"):
        run(frame.tz_localize(None))
    with pytest.raises(ValidationError, match=r"frame.index"):
        run(frame.iloc[::-1])
    with pytest.raises(ValidationError, match=r"frame.index"):
        run(frame.set_axis(frame.index + pd.Timedelta(seconds=5)))
    with pytest.raises(ValidationError, match=r"frame.columns"):
        run(frame.drop(columns="volume"))
    with pytest.raises(ValidationError, match=r"frame.close"):
        run(frame.assign(close=[1.1, np.nan, 1.3]))
    with pytest.raises(ValidationError, match="window"):
        run(frame, window=4)
    with pytest.raises(ValidationError, match="window"):
        run(frame, window=0)
    with pytest.raises(ValidationError, match="anchor"):
        run(frame, anchor="ny")
    with pytest.raises(ValidationError, match="real_volume"):
        run(frame, real_volume="yes")
    with pytest.raises(ValidationError, match="frame"):
        run(frame.iloc[:0], window=1)


def test_accepts_an_index_in_another_zone_and_reports_utc(bars: Callable[..., pd.DataFrame]) -> None:
    frame = bars("2024-01-17 14:00", [1.1, 1.2, 1.3])
    frame.index = pd.DatetimeIndex(frame.index).tz_convert("America/Chicago")
    result = compute_indicators(frame, real_volume=True, anchor="cme", config=IndicatorConfig(), window=2)
    assert result["window_end"] == "2024-01-17T14:02:00Z"
    assert result["vwap_anchor"] == "2024-01-16T23:00:00Z"
