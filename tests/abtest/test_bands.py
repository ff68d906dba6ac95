"""The causal session-VWAP series equals what `compute_indicators` gives for the frame cut at each bar."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from fxhub.abtest.bands import anchored_bands, session_starts
from fxhub.abtest.data import MarketBars
from fxhub.indicators import IndicatorConfig, compute_indicators, session_anchor
from fxhub.indicators.vwap import typical_price, volume_stats


def _probe_bars(frame: pd.DataFrame) -> list[int]:
    starts = session_starts(pd.DatetimeIndex(frame.index).as_unit("ns").asi8, "cme")
    firsts = np.flatnonzero(np.concatenate([[True], starts[1:] != starts[:-1]]))
    picks = {0, 1, 2, 57, 1234, 4000, len(frame) - 1}
    for first in firsts[1:4]:
        picks |= {int(first) - 1, int(first), int(first) + 1, int(first) + 90}
    return sorted(picks)


@pytest.mark.parametrize("real_volume", [True, False], ids=["true_vwap", "twap"])
def test_every_bar_equals_compute_indicators_on_the_frame_cut_there(
    real_bars: MarketBars, real_volume: bool
) -> None:
    frame = real_bars.frame.iloc[:6000]
    weights = frame["volume"].to_numpy() if real_volume else None
    series = anchored_bands(frame, weights, "cme")
    for i in _probe_bars(frame):
        expected = compute_indicators(
            frame.iloc[: i + 1], real_volume=real_volume, anchor="cme", config=IndicatorConfig(), window=1
        )
        if expected["vwap"] is None:  # a bar stamped at a closed instant: no session holds it yet
            assert np.isnan(series.mean[i]), i
            continue
        assert series.mean[i] == pytest.approx(expected["vwap"], abs=1e-12), i
        assert series.sigma[i] == pytest.approx(expected["vwap_sigma"], abs=1e-10), i


def test_tick_weights_give_the_tick_weighted_mean_of_the_session_so_far(
    bars: Callable[..., MarketBars],
) -> None:
    ohlc = [(1.1 + d, 1.1 + d + 0.0002, 1.1 + d - 0.0001, 1.1 + d) for d in (0.0, 0.0003, -0.0002, 0.0001)]
    data = bars(ohlc)
    ticks = np.array([3.0, 10.0, 1.0, 6.0])
    series = anchored_bands(data.frame, ticks, "cme")
    f = data.frame
    tp = typical_price(f["high"].to_numpy(), f["low"].to_numpy(), f["close"].to_numpy())
    for i in range(4):
        stats = volume_stats(tp[: i + 1], ticks[: i + 1])
        assert stats is not None
        assert series.mean[i] == pytest.approx(stats.mean, abs=1e-13)
        assert series.sigma[i] == pytest.approx(stats.sigma, abs=1e-13)
    assert series.session_bars.tolist() == [1, 2, 3, 4]


def test_twap_carries_the_close_through_empty_minutes(bars: Callable[..., MarketBars]) -> None:
    ohlc = [(1.1000, 1.1003, 1.0997, 1.1000), (1.1010, 1.1013, 1.1007, 1.1010)]
    data = bars(ohlc, minutes=[0, 3])  # two empty minutes carry 1.1000
    series = anchored_bands(data.frame, None, "cme")
    assert series.mean[1] == pytest.approx((1.1000 + 2 * 1.1000 + 1.1010) / 4, abs=1e-13)


def test_no_weight_yet_gives_nan_and_a_new_session_starts_afresh(bars: Callable[..., MarketBars]) -> None:
    ohlc = [(1.1000, 1.1001, 1.0999, 1.1000)] * 3 + [(1.2000, 1.2001, 1.1999, 1.2000)]
    # 21:57-21:59 UTC end a CME day (16:00 Chicago = 22:00 UTC); 23:00 opens the next one
    data = bars(ohlc, [0.0, 5.0, 5.0, 7.0], start="2024-01-09 21:57", minutes=[0, 1, 2, 63])
    series = anchored_bands(data.frame, data.frame["volume"].to_numpy(), "cme")
    assert np.isnan(series.mean[0])
    assert series.mean[3] == pytest.approx(1.2000, abs=1e-12)
    assert series.sigma[3] == 0.0
    assert series.session_bars.tolist() == [1, 2, 3, 1]


def test_session_starts_equal_session_anchor_of_every_bar(real_bars: MarketBars) -> None:
    index = pd.DatetimeIndex(real_bars.frame.index[:8000])
    starts = session_starts(index.as_unit("ns").asi8, "cme")
    for i in range(0, len(index), 97):
        assert starts[i] == pd.Timestamp(session_anchor(index[i].to_pydatetime(), "cme")).value
    assert len(set(starts.tolist())) > 4
