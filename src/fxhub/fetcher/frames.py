"""Candles to pandas: one DataFrame per source, indexed by UTC minute start, extras as columns."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from operator import attrgetter, is_
from typing import Final

import numpy as np
import pandas as pd

from fxhub.model import Candle

__all__ = ["CORE_COLUMNS", "EXTRA_COLUMNS", "FrameCache", "candles_frame"]

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
_NUMERIC: Final = (*CORE_COLUMNS, *_NUMERIC_EXTRAS)
# One C-level call per candle reads every field; `zip(*rows)` then turns the rows into columns.
_FIELDS: Final = attrgetter(*_NUMERIC, *_OTHER_EXTRAS)


def candles_frame(candles: Sequence[Candle]) -> pd.DataFrame:
    """OHLC and volume as float columns; an extra becomes a column only if some candle has it.

    Missing numeric extras are NaN; `instrument` and `complete` stay objects (None where unknown).
    """
    index = pd.DatetimeIndex([c.timestamp for c in candles], name="timestamp")
    # An empty list has no zone to infer.
    index = index.tz_localize("UTC") if index.tz is None else index.tz_convert("UTC")
    rows = list(map(_FIELDS, candles))
    columns: list[tuple[object, ...]] = (
        list(zip(*rows, strict=True)) if rows else [()] * (len(_NUMERIC) + len(_OTHER_EXTRAS))
    )
    count = len(rows)
    data: dict[str, object] = {}
    for name, values in zip(_NUMERIC, columns, strict=False):
        # numpy reads None as NaN in a float64 array.
        if name in CORE_COLUMNS or values.count(None) != count:
            data[name] = np.array(values, dtype="float64")
    for name, values in zip(_OTHER_EXTRAS, columns[len(_NUMERIC) :], strict=True):
        if values.count(None) != count:
            data[name] = pd.array(list(values), dtype="object")
    return pd.DataFrame(data, index=index)


class FrameCache:
    """`candles_frame` of the last candle list per key, built again only when the list changed.

    A hub client answers an unchanged page (a `304`) with the same `Candle` objects in a new list, so
    "the same list" is checked by identity, element by element: a polling strategy builds each frame
    once per change of its page, not once per call. Treat the frames as read-only.
    """

    def __init__(self) -> None:
        self._kept: dict[Hashable, tuple[list[Candle], pd.DataFrame]] = {}

    def frame(self, key: Hashable, candles: Sequence[Candle]) -> pd.DataFrame:
        kept = self._kept.get(key)
        if kept is not None and len(kept[0]) == len(candles) and all(map(is_, kept[0], candles)):
            return kept[1]
        frame = candles_frame(candles)
        self._kept[key] = (list(candles), frame)
        return frame
