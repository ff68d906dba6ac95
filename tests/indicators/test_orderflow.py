"""Cumulative delta, OFI and VPIN: hand-made examples and their place in compute_indicators."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from fxhub.indicators import IndicatorConfig, compute_indicators
from fxhub.indicators.orderflow import bvc_split, cumulative_delta, estimate_bucket_volume, vpin


def _arr(*values: float) -> np.ndarray:
    return np.array(values, dtype=np.float64)


def test_vpin_with_buckets_equal_to_bars() -> None:
    result = vpin(_arr(6, 2, 5), _arr(4, 8, 5), bucket_volume=10, window_buckets=50)
    assert result.buckets == 3
    assert result.value == pytest.approx((2 + 6 + 0) / 30, rel=1e-14)


def test_vpin_splits_a_bar_that_straddles_a_bucket_boundary() -> None:
    # Buckets of 15 cut back from the end: [bar 3 + half of bar 2] and [bar 1 + half of bar 2].
    # Bar 2 (buy 2, sell 8) is cut in half: buy 1, sell 4 to each bucket.
    result = vpin(_arr(6, 2, 5), _arr(4, 8, 5), bucket_volume=15, window_buckets=50)
    assert result.buckets == 2
    assert result.value == pytest.approx((abs(9 - 6) + abs(8 - 7)) / 30, rel=1e-14)
    newest_only = vpin(_arr(6, 2, 5), _arr(4, 8, 5), bucket_volume=15, window_buckets=1)
    assert newest_only.buckets == 1
    assert newest_only.value == pytest.approx(3 / 15, rel=1e-14)


def test_vpin_ignores_the_partial_oldest_bucket_and_needs_one_full_bucket() -> None:
    # 32 contracts, buckets of 10: three full buckets from the end, 2 contracts of bar 1 left over.
    full = vpin(_arr(8, 5, 5, 0), _arr(4, 0, 0, 10), bucket_volume=10, window_buckets=50)
    assert full.buckets == 3
    assert vpin(_arr(1), _arr(1), bucket_volume=10, window_buckets=50).value is None
    assert vpin(_arr(1), _arr(1), bucket_volume=0, window_buckets=50).value is None


def test_bucket_volume_is_average_daily_volume_over_buckets_per_day() -> None:
    assert estimate_bucket_volume(_arr(10, 30), 1380, 50) == pytest.approx(20 * 1380 / 50)


def test_bvc_classifies_up_moves_as_mostly_buying() -> None:
    buy, sell = bvc_split(_arr(0, 100, 100, 100), _arr(1.0, 1.001, 1.0, 1.0))
    sigma = float(np.std([0.001, -0.001, 0.0], ddof=1))
    phi = 0.5 * (1 + math.erf(0.001 / sigma / math.sqrt(2)))
    np.testing.assert_allclose(buy, [100 * phi, 100 * (1 - phi), 50], rtol=1e-12)
    np.testing.assert_allclose(buy + sell, [100, 100, 100], rtol=1e-15)


def test_cumulative_delta_skips_bars_without_sides() -> None:
    assert cumulative_delta(_arr(5, np.nan, 2), _arr(3, 1, 7)) == 5 - 3 + 2 - 7
    assert cumulative_delta(_arr(np.nan), _arr(np.nan)) is None


def _flow_frame(bars: Callable[..., pd.DataFrame]) -> pd.DataFrame:
    frame = bars("2024-01-17 14:00", [1.1, 1.1002, 1.1001, 1.1004], volumes=[10, 10, 10, 10])
    frame["buy_volume"] = [6.0, 2.0, 5.0, 9.0]
    frame["sell_volume"] = [4.0, 8.0, 5.0, 1.0]
    frame["ofi"] = [3.0, -7.0, np.nan, 2.5]
    return frame


def test_compute_reports_order_flow_on_real_volume(bars: Callable[..., pd.DataFrame]) -> None:
    config = IndicatorConfig(vpin_bucket_volume=10.0, vpin_window_buckets=3)
    result = compute_indicators(_flow_frame(bars), real_volume=True, anchor="cme", config=config, window=2)
    assert result["cumulative_delta"] == (6 - 4) + (2 - 8) + 0 + (9 - 1)
    assert result["cumulative_delta_window"] == 0 + 8
    assert result["ofi_last"] == 2.5
    assert result["ofi_window"] == 2.5  # the NaN minute is unknown, not zero
    assert result["vpin"] == {
        "value": pytest.approx((6 + 0 + 8) / 30),
        "bucket_size": 10.0,
        "bucket_size_source": "config",
        "buckets": 3,
        "window_buckets": 3,
        "method": "aggressor",
    }


def test_compute_estimates_the_bucket_and_offers_bvc(bars: Callable[..., pd.DataFrame]) -> None:
    config = IndicatorConfig(vpin_method="bvc", vpin_buckets_per_day=1380)  # one minute of volume per bucket
    result = compute_indicators(_flow_frame(bars), real_volume=True, anchor="cme", config=config, window=2)
    vpin_out = result["vpin"]
    assert vpin_out["method"] == "bvc"
    assert vpin_out["bucket_size_source"] == "estimated"
    assert vpin_out["bucket_size"] == pytest.approx(10.0)
    assert vpin_out["buckets"] == 3  # the first bar has no price change and is left out
    assert 0.0 <= vpin_out["value"] <= 1.0


def test_no_order_flow_without_real_volume_or_columns(bars: Callable[..., pd.DataFrame]) -> None:
    config = IndicatorConfig()
    tick = compute_indicators(_flow_frame(bars), real_volume=False, anchor="fx", config=config, window=2)
    plain = compute_indicators(
        bars("2024-01-17 14:00", [1.1] * 4), real_volume=True, anchor="cme", config=config, window=2
    )
    for result in (tick, plain):
        for key in ("cumulative_delta", "cumulative_delta_window", "ofi_last", "ofi_window", "vpin"):
            assert result[key] is None, key
