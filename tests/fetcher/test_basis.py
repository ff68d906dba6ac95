"""`measure_basis` against its definition: the median futures − spot difference on shared minutes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fxhub.fetcher.basis import PRICE_COLUMNS, measure_basis


def _frame(minutes: list[int], offset: float) -> pd.DataFrame:
    index = pd.DatetimeIndex(
        pd.Timestamp("2025-11-04 13:00", tz="UTC") + pd.to_timedelta(minutes, unit="min"), name="timestamp"
    )
    rng = np.random.default_rng(len(minutes))
    data = {name: 1.08 + offset + rng.normal(0.0, 1e-4, len(minutes)) for name in PRICE_COLUMNS}
    return pd.DataFrame(data, index=index.as_unit("us"))


def test_measure_basis_when_minutes_partly_overlap_equals_label_lookup_median() -> None:
    futures = _frame([0, 1, 2, 4, 5, 7, 9], 0.0035)
    spot = _frame([1, 2, 3, 5, 6, 7, 8], 0.0)
    common = futures.index.intersection(spot.index).sort_values()
    cols = list(PRICE_COLUMNS)
    expected = np.median(futures.loc[common, cols].to_numpy() - spot.loc[common, cols].to_numpy(), axis=1)

    raw = measure_basis(futures, spot)

    assert list(raw.index) == list(common)
    assert str(raw.index.dtype) == "datetime64[us, UTC]"
    np.testing.assert_array_equal(raw.to_numpy(), expected)


def test_measure_basis_when_no_minute_overlaps_is_empty() -> None:
    assert measure_basis(_frame([0, 1], 0.0035), _frame([2, 3], 0.0)).empty
