"""Volume spike: ratio and z-score against the bars before, meaningful only on real volume."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from fxhub.indicators import IndicatorConfig, compute_indicators
from fxhub.indicators.volume import volume_spike


def test_spike_ratio_and_zscore_against_the_preceding_bars() -> None:
    volume = np.array([100.0, 10, 20, 30, 20, 60])  # baseline of 4: the 100 falls outside
    spike = volume_spike(volume, 4)
    baseline = np.array([10.0, 20, 30, 20])
    assert spike.baseline_bars == 4
    assert spike.baseline_mean == pytest.approx(20.0)
    assert spike.ratio == pytest.approx(3.0)
    assert spike.zscore == pytest.approx((60 - 20) / np.std(baseline, ddof=1))


def test_flat_or_empty_baseline_gives_none_not_infinity() -> None:
    assert volume_spike(np.array([5.0, 5, 5, 9]), 30).zscore is None
    assert volume_spike(np.array([0.0, 0, 0, 9]), 30).ratio is None
    assert volume_spike(np.array([9.0]), 30).ratio is None


@pytest.mark.parametrize("real_volume", [True, False])
def test_spike_is_meaningful_only_on_real_volume(
    bars: Callable[..., pd.DataFrame], real_volume: bool
) -> None:
    frame = bars("2024-01-17 14:00", [1.1] * 6, volumes=[10, 20, 30, 20, 10, 90])
    result = compute_indicators(
        frame,
        real_volume=real_volume,
        anchor="cme" if real_volume else "fx",
        config=IndicatorConfig(spike_baseline_bars=5),
        window=3,
    )
    spike = result["volume_spike"]
    assert spike["meaningful"] is real_volume
    assert spike["ratio"] == pytest.approx(90 / 18)
    assert spike["baseline_bars"] == 5
