"""The storage contract every candle store meets; one contract test suite runs against each backend."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from fxhub.model import Candle, Source

__all__ = ["CandleKey", "CandleStore", "InventoryRow", "UpsertResult"]

CandleKey = tuple[str, str, datetime]  # (symbol, source, timestamp)


@dataclass(frozen=True, slots=True)
class UpsertResult:
    """What a write did: new keys, revised keys (a backfilled minute replaced), identical repeats.

    Candles are counted as if written one by one, so inserted + replaced + unchanged == len(batch) and
    a key repeated within a batch counts once per occurrence; `replaced_keys` has one entry per replaced
    candle (a key twice if it was revised twice in the batch) and `changed` one per inserted or replaced
    candle.
    """

    inserted: int = 0
    replaced: int = 0
    unchanged: int = 0
    replaced_keys: tuple[CandleKey, ...] = field(default_factory=tuple)
    # The candles that are new or revised, in input order: what live subscribers are sent.
    changed: tuple[Candle, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class InventoryRow:
    """One (symbol, source) in the store, for `fxhub check`."""

    symbol: str
    source: Source
    count: int
    first: datetime
    last: datetime


@runtime_checkable
class CandleStore(Protocol):
    """Candles keyed by (symbol, source, timestamp).

    - `upsert` is atomic: either every candle of the batch is stored or none is. A candle equal to the
      stored one (every field) changes nothing; a different candle under the same key replaces it.
      Within one batch, a later candle with the same key wins. Concurrent upserts are serialised per
      series, so each key is reported inserted exactly once.
    - `latest` returns the newest `limit` candles of `symbol` (optionally one source), oldest first.
      Without a source, candles of both sources are interleaved by (timestamp, source). `limit=0` gives
      `[]`; a negative limit raises `ValueError`.
    - `range` returns candles with start ≤ timestamp < end, oldest first, ordered by (timestamp, source);
      `[]` when end ≤ start. A naive bound raises `ValidationError`.
    - `inventory` is sorted by symbol, then source.
    - Timestamps in and out are timezone-aware UTC datetimes.
    - Methods are synchronous and safe to call from several threads at once.
    - A database failure raises `StoreError` (fxhub.hub.store.errors); a failed upsert stored nothing.
    """

    def upsert(self, candles: Sequence[Candle]) -> UpsertResult: ...

    def latest(self, symbol: str, limit: int, source: Source | None = None) -> list[Candle]: ...

    def range(
        self, symbol: str, start: datetime, end: datetime, source: Source | None = None
    ) -> list[Candle]: ...

    def inventory(self) -> list[InventoryRow]: ...

    def count(self) -> int: ...

    def close(self) -> None: ...
