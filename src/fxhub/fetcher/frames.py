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
    """`candles_frame` of the last candle list per key, built again only for what changed.

    A hub client answers an unchanged page (a `304`) with the same `Candle` objects in a new list, and a
    page that gained minutes with the same objects moved up plus the new ones; both are recognised by
    identity, element by element. An unchanged list gets the kept frame; a list that only lost candles
    at the front and gained some at the end gets the kept frame's rows plus a frame of the new candles,
    when the two have the same columns (else, and for any other change, the frame is built anew). The
    result equals `candles_frame(candles)` in every case. Treat the frames as read-only.
    """

    def __init__(self) -> None:
        self._kept: dict[Hashable, tuple[list[Candle], pd.DataFrame]] = {}

    def frame(self, key: Hashable, candles: Sequence[Candle]) -> pd.DataFrame:
        kept = self._kept.get(key)
        frame = None if kept is None else _reuse(kept[0], kept[1], candles)
        if frame is None:
            frame = candles_frame(candles)
        self._kept[key] = (list(candles), frame)
        return frame


def _reuse(old: list[Candle], frame: pd.DataFrame, candles: Sequence[Candle]) -> pd.DataFrame | None:
    """`frame` (of `old`) carried over to `candles`, or None when `candles` is not `old` moved on."""
    if len(old) == len(candles) and all(map(is_, old, candles)):
        return frame
    if not old or not candles:
        return None
    dropped = next((at for at, candle in enumerate(old) if candle is candles[0]), None)
    if dropped is None:
        return None
    kept = len(old) - dropped
    if kept > len(candles) or not all(map(is_, old[dropped:], candles[:kept])):
        return None
    if kept == len(candles):  # only dropped: the rest may lack an extra the dropped ones had
        return None
    added = candles_frame(candles[kept:])
    if list(added.columns) != list(frame.columns):
        return None
    return pd.concat([frame.iloc[dropped:], added])
