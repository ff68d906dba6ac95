"""Fixtures for the fetcher tests: an in-process hub reader over a real SQLite store, and candle makers."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from fxhub.hub.store import SqliteStore
from fxhub.model import Candle, PriceBasis, Source, VolumeType

# A Tuesday afternoon in London: spot FX and CME both open.
T0 = datetime(2025, 11, 4, 13, 0, tzinfo=UTC)
BASIS = 0.0035  # 35 pips of futures premium, like 6E in a rate-differential market


class StoreReader:
    """The hub client's read methods over a `SqliteStore` in this process."""

    def __init__(self, store: SqliteStore) -> None:
        self.store = store
        self.calls: list[tuple[str, Any]] = []

    def get_latest_candles(
        self, pair: str, limit: int = 100, source: Source | str | None = None
    ) -> list[Candle]:
        self.calls.append(("latest", (pair, limit, source)))
        return self.store.latest(pair, limit, Source(source) if source is not None else None)

    def get_candles(
        self, pair: str, start: datetime, end: datetime, source: Source | str | None = None
    ) -> list[Candle]:
        self.calls.append(("range", (pair, start, end, source)))
        return self.store.range(pair, start, end, Source(source) if source is not None else None)

    def push(self, candles: list[Candle]) -> None:
        self.store.upsert(candles)


def spot_price(minute: int) -> float:
    """A deterministic wiggle around 1.08 (index = minutes after T0, may be negative)."""
    return round(1.08 + 0.0004 * math.sin(minute / 7.0) + 0.00002 * (minute % 5), 5)


def ig_candle(minute: int, pair: str = "EUR_USD", ticks: float = 40.0) -> Candle:
    p = spot_price(minute)
    return Candle(
        symbol=pair,
        timestamp=T0 + timedelta(minutes=minute),
        open=p,
        high=p + 0.0001,
        low=p - 0.0001,
        close=p + 0.00003,
        volume=ticks,
        source=Source.IG,
        volume_type=VolumeType.TICK,
        price_basis=PriceBasis.SPOT,
        quote_count=int(ticks),
    )


def db_candle(minute: int, pair: str = "EUR_USD", volume: float | None = None) -> Candle:
    p = spot_price(minute) + BASIS
    vol = float(100 + (minute * 37) % 250) if volume is None else volume
    return Candle(
        symbol=pair,
        timestamp=T0 + timedelta(minutes=minute),
        open=p,
        high=p + 0.0001,
        low=p - 0.0001,
        close=p + 0.00003,
        volume=vol,
        source=Source.DATABENTO,
        volume_type=VolumeType.REAL,
        price_basis=PriceBasis.FUTURES,
        buy_volume=float(vol // 2),
        sell_volume=float(vol - vol // 2),
        instrument="6EZ5",
    )


@pytest.fixture
def reader(tmp_path: Path) -> Iterator[StoreReader]:
    store = SqliteStore(tmp_path / "hub.sqlite3")
    yield StoreReader(store)
    store.close()


MakeReader = Callable[..., StoreReader]


@pytest.fixture
def fill(reader: StoreReader) -> Callable[..., StoreReader]:
    """`fill(ig=range(...), db=range(...))`: minutes (after T0) each source has."""

    def run(ig: Any = (), db: Any = (), pair: str = "EUR_USD") -> StoreReader:
        candles = [ig_candle(m, pair) for m in ig] + [db_candle(m, pair) for m in db]
        if candles:
            reader.push(candles)
        return reader

    return run


@dataclass(frozen=True)
class Makers:
    t0: datetime
    basis: float
    ig: Callable[..., Candle]
    db: Callable[..., Candle]
    spot: Callable[[int], float]


@pytest.fixture
def mk() -> Makers:
    """The candle makers above, for tests (conftest modules are not importable by name)."""
    return Makers(T0, BASIS, ig_candle, db_candle, spot_price)
