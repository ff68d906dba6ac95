"""Candles to pandas: one DataFrame per source, indexed by UTC minute start, extras as columns."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final

import numpy as np
import pandas as pd

from fxhub.model import Candle

__all__ = ["CORE_COLUMNS", "EXTRA_COLUMNS", "candles_frame"]

CORE_COLUMNS: Final = ("open", "high", "low", "close", "volume")
_NUMERIC_EXTRAS: Final = (
    "vwap",
    "buy_volume",
    "sell_volume",
    "trade_count",
    "quote_count",
    "avg_spread_pips",
    "max_spread_pips",
    "ofi",
    "ofi_multi",
)
_OTHER_EXTRAS: Final = ("instrument", "complete")
EXTRA_COLUMNS: Final = (*_NUMERIC_EXTRAS, *_OTHER_EXTRAS)
_NAN: Final = math.nan


def candles_frame(candles: Sequence[Candle]) -> pd.DataFrame:
    """OHLC and volume as float columns; an extra becomes a column only if some candle has it.

    Missing numeric extras are NaN; `instrument` and `complete` stay objects (None where unknown).
    """
    index = pd.DatetimeIndex([c.timestamp for c in candles], name="timestamp")
    # An empty list has no zone to infer.
    index = index.tz_localize("UTC") if index.tz is None else index.tz_convert("UTC")
    data: dict[str, object] = {
        name: np.fromiter((getattr(c, name) for c in candles), dtype="float64", count=len(candles))
        for name in CORE_COLUMNS
    }
    for name in _NUMERIC_EXTRAS:
        values = [getattr(c, name) for c in candles]
        if any(v is not None for v in values):
            data[name] = np.array([_NAN if v is None else v for v in values], dtype="float64")
    for name in _OTHER_EXTRAS:
        values = [getattr(c, name) for c in candles]
        if any(v is not None for v in values):
            data[name] = pd.array(values, dtype="object")
    return pd.DataFrame(data, index=index)
