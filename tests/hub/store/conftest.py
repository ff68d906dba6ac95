"""Every store backend behind one fixture, so that one contract suite runs against each.

PostgreSQL is not optional: CI starts it, and a missing server fails these tests instead of skipping them
(a skipped backend is an untested backend). `FXHUB_TEST_POSTGRES` points them at another server.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from fxhub.hub.store import CandleStore, HotWindowStore, PostgresStore, SqliteStore, StoreError
from fxhub.model import SOURCE_VOLUME_TYPE, Candle, Source
from fxhub.settings import mask_store_url

POSTGRES_URL = os.environ.get("FXHUB_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
HOT_WINDOW = 5  # small, so that the contract tests cross the window's edges
BACKENDS = ("sqlite", "postgres", "hot-sqlite")
T0 = datetime(2025, 11, 4, 13, 0, tzinfo=UTC)

StoreFactory = Callable[[], CandleStore]
CandleFactory = Callable[..., Candle]


def make_candle(
    minute: int,
    *,
    symbol: str = "EUR_USD",
    source: Source = Source.IG,
    price: float = 1.1000,
    volume: float = 10.0,
    **extras: Any,
) -> Candle:
    """A valid candle `minute` minutes after T0; `extras` are further Candle fields."""
    return Candle(
        symbol=symbol,
        timestamp=T0 + timedelta(minutes=minute),
        open=price,
        high=price + 0.0010,
        low=price - 0.0010,
        close=price,
        volume=volume,
        source=source,
        volume_type=SOURCE_VOLUME_TYPE[source],
        **extras,
    )


@pytest.fixture
def candle() -> CandleFactory:
    """`candle(minute, symbol=..., source=..., price=..., volume=..., **extras)`, T0 = 2025-11-04 13:00Z."""
    return make_candle


@pytest.fixture
def t0() -> datetime:
    return T0


def open_postgres(table: str) -> PostgresStore:
    """A store on its own table of the test database, or a failed test that says how to get one."""
    try:
        return PostgresStore(POSTGRES_URL, table=table, max_size=6)
    except StoreError as exc:
        pytest.fail(
            f"PostgreSQL is required for the store tests (CI provides it at {mask_store_url(POSTGRES_URL)}) "
            f"and could not be used: {exc}. Start a server with trust auth and a database 'test', e.g. "
            "`docker run -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust -e POSTGRES_DB=test postgres:16`, "
            "or point FXHUB_TEST_POSTGRES at one.",
            pytrace=False,
        )


def drop_tables(tables: list[str]) -> None:
    if not tables:
        return
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        for table in tables:
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table)))


@pytest.fixture(params=BACKENDS)
def store_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """Makes fresh, empty stores of one backend; closes them (and drops their tables) afterwards."""
    backend: str = request.param
    stores: list[CandleStore] = []
    tables: list[str] = []

    def make() -> CandleStore:
        made: CandleStore
        if backend == "postgres":
            tables.append(f"candles_test_{uuid.uuid4().hex[:16]}")
            made = open_postgres(tables[-1])
        else:
            made = SqliteStore(tmp_path / f"store-{len(stores)}.sqlite3")
            if backend == "hot-sqlite":
                made = HotWindowStore(made, window=HOT_WINDOW)
        stores.append(made)
        return made

    try:
        yield make
    finally:
        for made in stores:
            made.close()
        drop_tables(tables)


@pytest.fixture
def store(store_factory: StoreFactory) -> CandleStore:
    """One fresh store of each backend."""
    return store_factory()


@pytest.fixture
def postgres_url() -> str:
    """The test database's URL (trust auth, no password)."""
    return POSTGRES_URL


@pytest.fixture
def postgres_store() -> Iterator[PostgresStore]:
    """A PostgreSQL store on its own table, dropped afterwards."""
    table = f"candles_test_{uuid.uuid4().hex[:16]}"
    made = open_postgres(table)
    try:
        yield made
    finally:
        made.close()
        drop_tables([table])
