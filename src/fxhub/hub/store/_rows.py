"""What the SQL stores share: a candle as a row and back, how a batch is classified, how sources merge.

Both backends keep the nine core fields as columns and the extras (every other `Candle` field that is not
None) as one compact JSON object, so a new extra field needs no schema migration. Rows are rebuilt
through `Candle._trusted`: they were validated and normalised by the constructor on the way in.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from enum import Enum
from typing import Any, Final

import orjson

from fxhub.hub.store.base import CandleKey, UpsertResult
from fxhub.model import Candle, PriceBasis, Source, VolumeType, parse_utc_timestamp

__all__ = [
    "CORE_FIELDS",
    "EXTRA_FIELDS",
    "UpsertPlan",
    "candle_from_row",
    "check_limit",
    "check_range",
    "extras_dict",
    "extras_json",
    "group_by_series",
    "merge_sources",
    "newest",
    "plan_upsert",
]

CORE_FIELDS: Final = (
    "symbol",
    "source",
    "timestamp",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "volume_type",
)
EXTRA_FIELDS: Final = tuple(f.name for f in fields(Candle) if f.name not in CORE_FIELDS)

SeriesKey = tuple[str, Source]  # (symbol, source): one time series


def extras_dict(candle: Candle) -> dict[str, Any] | None:
    """The extras that are set (enum members as they are, orjson writes their values); None if none."""
    extras: dict[str, Any] = {}
    for name in EXTRA_FIELDS:
        value = getattr(candle, name)
        if value is not None:
            extras[name] = value
    return extras or None


def extras_json(candle: Candle) -> str | None:
    """The extras that are set, as compact JSON with sorted keys; None when the candle has none."""
    extras = extras_dict(candle)
    if extras is None:
        return None
    # Every row a push writes comes through here: orjson (enum members as their values; Candle already
    # refused NaN and infinities) is several times faster than json.dumps and reads back the same values.
    try:
        return orjson.dumps(extras, option=orjson.OPT_SORT_KEYS).decode()
    except orjson.JSONEncodeError:  # text orjson refuses (a lone surrogate in `instrument`)
        plain = {name: value.value if isinstance(value, Enum) else value for name, value in extras.items()}
        return json.dumps(plain, separators=(",", ":"), sort_keys=True, allow_nan=False)


def candle_from_row(
    symbol: str,
    source: str,
    timestamp: datetime,
    prices: Sequence[float],
    volume: float,
    volume_type: str,
    extras: Mapping[str, Any] | None,
) -> Candle:
    """Rebuild a candle from its columns; `prices` is (open, high, low, close).

    Every row went in through the validating `Candle` constructor, so it comes back through the trusted
    path (`Candle._trusted`): the columns are only given their model types, not re-checked.
    """
    open_, high, low, close = prices
    values: dict[str, Any] = dict(extras) if extras else {}
    if values:
        basis = values.get("price_basis")
        if basis is not None:
            values["price_basis"] = PriceBasis(basis)
        for name in _FLOAT_EXTRAS.intersection(values):
            # PostgreSQL's jsonb keeps numbers as numeric and hands 1e300 back as an int.
            values[name] = float(values[name])
    values["symbol"] = symbol
    values["source"] = Source(source)
    values["timestamp"] = timestamp if timestamp.tzinfo is UTC else timestamp.astimezone(UTC)
    values["open"] = float(open_)
    values["high"] = float(high)
    values["low"] = float(low)
    values["close"] = float(close)
    values["volume"] = float(volume)
    values["volume_type"] = VolumeType(volume_type)
    return Candle._trusted(values)


# The extras the model declares as floats (its annotations are strings: `from __future__ import annotations`).
_FLOAT_EXTRAS: Final = frozenset(f.name for f in fields(Candle) if f.type == "float | None")


@dataclass(frozen=True, slots=True)
class UpsertPlan:
    """The outcome to report for a batch and the rows to write for it."""

    result: UpsertResult
    writes: list[Candle]  # the final candle of each key whose stored row is missing or differs


def plan_upsert(candles: Sequence[Candle], stored: Mapping[CandleKey, Candle]) -> UpsertPlan:
    """Classify `candles` against the `stored` rows of their keys, as if they were written one by one.

    Each candle is compared with what its key holds at that point, so a key repeated in one batch counts
    once per occurrence (inserted, then replaced or unchanged) and inserted + replaced + unchanged always
    equals len(candles). Only the last candle of each key is written, and only if it differs from the row.
    """
    current: dict[CandleKey, Candle] = dict(stored)
    inserted = replaced = unchanged = 0
    replaced_keys: list[CandleKey] = []
    changed: list[Candle] = []
    for candle in candles:
        key = candle.key
        before = current.get(key)
        if before is None:
            inserted += 1
        elif before == candle:
            unchanged += 1
            continue
        else:
            replaced += 1
            replaced_keys.append(key)
        changed.append(candle)
        current[key] = candle
    final = {candle.key: candle for candle in candles}
    writes = [candle for key, candle in final.items() if stored.get(key) != candle]
    result = UpsertResult(
        inserted=inserted,
        replaced=replaced,
        unchanged=unchanged,
        replaced_keys=tuple(replaced_keys),
        changed=tuple(changed),
    )
    return UpsertPlan(result=result, writes=writes)


def group_by_series(candles: Iterable[Candle]) -> dict[SeriesKey, list[Candle]]:
    """The candles of each (symbol, source) in input order; series sorted by symbol, then source."""
    groups: dict[SeriesKey, list[Candle]] = {}
    for candle in candles:
        groups.setdefault((candle.symbol, candle.source), []).append(candle)
    return dict(sorted(groups.items(), key=lambda item: (item[0][0], item[0][1].value)))


def _order(candle: Candle) -> tuple[datetime, str]:
    return (candle.timestamp, candle.source.value)


def merge_sources(series: Iterable[list[Candle]]) -> list[Candle]:
    """Merge per-source lists, each oldest first, into one ordered by (timestamp, source)."""
    return list(heapq.merge(*series, key=_order))


def newest(candles: list[Candle], limit: int) -> list[Candle]:
    """The last `limit` candles (beware: `candles[-0:]` would be all of them)."""
    return candles[-limit:] if limit > 0 else []


def check_limit(limit: int) -> None:
    """Refuse a negative `limit`; 0 is allowed and means no candles."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise ValueError(f"`limit` must be a whole number ≥ 0, was {limit!r}")


def check_range(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """Both bounds in UTC; a naive bound is refused (its zone would be a guess)."""
    return (
        parse_utc_timestamp(start, field="start", where="CandleStore.range"),
        parse_utc_timestamp(end, field="end", where="CandleStore.range"),
    )
