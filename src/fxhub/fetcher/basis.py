"""Futures − spot basis: measured per minute where both sources have a candle, smoothed, subtracted.

A CME future trades at spot plus forward points, tens of pips for 6E; the points drift slowly (days),
while each minute's difference between a futures candle and a spot candle is noisy (trades against
mid quotes, tick sizes, different last-update instants). So:

1. **Raw basis** of an overlapping minute: the median of the four differences futures − spot of open,
   high, low and close (the median shrugs off one odd extreme).
2. **Smoothed basis**: an exponentially weighted mean of the raw values in time, with a half-life in
   minutes (gaps in the overlap decay the old values by elapsed time, not by row count).
3. Carried to every futures minute *as of* that minute: a minute uses only overlaps at or before it,
   so an adjusted candle never depends on later data; minutes before the first overlap take the first
   smoothed value.

DATABENTO candles of USD_JPY are already in USD_JPY terms (the 6J inversion happens when bars are
built), so one formula serves every pair.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

__all__ = ["PRICE_COLUMNS", "adjust_to_spot", "measure_basis", "smooth_basis"]

PRICE_COLUMNS: Final = ("open", "high", "low", "close")
_ADJUSTED: Final = (*PRICE_COLUMNS, "vwap")


def measure_basis(futures: pd.DataFrame, spot: pd.DataFrame) -> pd.Series:
    """Raw futures − spot basis on the minutes both frames hold (index: UTC minute starts), sorted."""
    futures_ns = pd.DatetimeIndex(futures.index).as_unit("ns").asi8
    spot_ns = pd.DatetimeIndex(spot.index).as_unit("ns").asi8
    # Positions of the shared minutes in each frame, in time order: no label lookups.
    _, at_futures, at_spot = np.intersect1d(futures_ns, spot_ns, assume_unique=True, return_indices=True)
    if len(at_futures) == 0:
        return pd.Series(dtype="float64", index=pd.DatetimeIndex([], tz="UTC"), name="basis")
    cols = list(PRICE_COLUMNS)
    diff = futures[cols].to_numpy(dtype="float64")[at_futures] - spot[cols].to_numpy(dtype="float64")[at_spot]
    return pd.Series(np.median(diff, axis=1), index=futures.index[at_futures], name="basis")


def smooth_basis(raw: pd.Series, index: pd.DatetimeIndex, halflife_minutes: float) -> pd.Series:
    """The smoothed basis as of every minute of `index` (see the module notes); NaN if `raw` is empty."""
    if raw.empty:
        return pd.Series(np.nan, index=index, name="basis", dtype="float64")
    halflife = pd.Timedelta(minutes=halflife_minutes)  # time-aware: gaps decay by elapsed time
    times = pd.DatetimeIndex(raw.index).tz_convert(None).to_numpy()
    smoothed = raw.ewm(halflife=halflife, times=times).mean()  # type: ignore[arg-type]
    positions = smoothed.index.searchsorted(index, side="right") - 1  # the last overlap ≤ each minute
    values = smoothed.to_numpy()[np.maximum(positions, 0)]
    return pd.Series(values, index=index, name="basis")


def adjust_to_spot(futures: pd.DataFrame, basis: pd.Series) -> pd.DataFrame:
    """A copy of `futures` with the basis subtracted from OHLC (and trade VWAP when present).

    Shifting every price of a minute by one number keeps low ≤ open, close ≤ high. A `basis` column
    records what was subtracted.
    """
    out = futures.copy()
    shift = basis.reindex(out.index).to_numpy(dtype="float64")
    for column in _ADJUSTED:
        if column in out.columns:
            out[column] = out[column].to_numpy(dtype="float64") - shift
    out["basis"] = shift
    return out
