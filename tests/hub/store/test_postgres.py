"""What PostgresStore promises beyond the contract: its table, its errors, two hubs on one table."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from fxhub.errors import ConfigError
from fxhub.hub.store import PostgresStore, StoreError
from fxhub.model import Candle, Source

CandleFactory = Callable[..., Candle]


@pytest.mark.parametrize("table", ["candles; DROP TABLE x", "Candles", "1candles", "", "a" * 64, "public.x"])
def test_a_table_name_that_is_not_a_plain_identifier_is_refused_before_connecting(table: str) -> None:
    with pytest.raises(ConfigError, match="table must be a lower-case SQL identifier"):
        PostgresStore("postgresql://nobody:secret@127.0.0.1:1/none", table=table)


def test_an_unreachable_server_fails_fast_and_never_shows_the_password() -> None:
    started = time.perf_counter()
    with pytest.raises(StoreError) as caught:
        PostgresStore("postgresql://fxhub:hunter2secret@127.0.0.1:1/test")
    message = str(caught.value)
    assert "hunter2secret" not in message
    assert "postgresql://fxhub:****@127.0.0.1:1/test" in message
    assert "could not connect" in message
    assert time.perf_counter() - started < 5


def test_the_table_is_keyed_by_symbol_source_and_timestamp(
    postgres_store: PostgresStore, postgres_url: str
) -> None:
    with psycopg.connect(postgres_url) as conn:
        columns = conn.execute(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_index i "
            "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
            "WHERE i.indrelid = %s::regclass AND i.indisprimary ORDER BY array_position(i.indkey, a.attnum)",
            [postgres_store.table],
        ).fetchall()
    assert columns == [("symbol", "text"), ("source", "text"), ("ts", "timestamp with time zone")]


def test_opening_an_existing_table_keeps_its_rows(
    postgres_store: PostgresStore, postgres_url: str, candle: CandleFactory
) -> None:
    postgres_store.upsert([candle(0)])
    again = PostgresStore(postgres_url, table=postgres_store.table)
    try:
        assert again.latest("EUR_USD", 5) == [candle(0)]
    finally:
        again.close()


def test_two_hubs_on_one_table_report_each_new_minute_once(
    postgres_store: PostgresStore, postgres_url: str, candle: CandleFactory
) -> None:
    other = PostgresStore(postgres_url, table=postgres_store.table)
    batch = [candle(n, source=source) for n in range(30) for source in Source]

    def write(store: PostgresStore, volume: float) -> int:
        moved = [candle(c.timestamp.minute, source=c.source, volume=volume) for c in batch]
        return sum(store.upsert(moved).inserted for _ in range(5))

    try:
        with ThreadPoolExecutor(4) as pool:
            futures = [
                pool.submit(write, store, float(n)) for n, store in enumerate([postgres_store, other] * 2)
            ]
            inserted = sum(f.result() for f in futures)
        assert inserted == len(batch)
        assert postgres_store.count() == len(batch)
    finally:
        other.close()


def test_a_closed_store_raises_a_store_error(postgres_store: PostgresStore, candle: CandleFactory) -> None:
    postgres_store.close()
    postgres_store.close()
    with pytest.raises(StoreError, match="could not store"):
        postgres_store.upsert([candle(0)])
