"""The `CandleStore` contract, run against every backend (`store` is parametrized in conftest.py)."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from fxhub.errors import ValidationError
from fxhub.hub.store import CandleStore, InventoryRow, StoreError, UpsertResult
from fxhub.model import Candle, PriceBasis, Source, VolumeType

CandleFactory = Callable[..., Candle]
IG, DB = Source.IG, Source.DATABENTO


def minute(t0: datetime, n: int) -> datetime:
    return t0 + timedelta(minutes=n)


def counts(result: UpsertResult) -> tuple[int, int, int]:
    return (result.inserted, result.replaced, result.unchanged)


# --- upsert ---------------------------------------------------------------------------------------------


def test_upsert_when_keys_are_new_counts_them_inserted(store: CandleStore, candle: CandleFactory) -> None:
    batch = [candle(0), candle(1), candle(0, source=DB)]
    result = store.upsert(batch)
    assert counts(result) == (3, 0, 0)
    assert result.replaced_keys == ()
    assert result.changed == tuple(batch)
    assert store.count() == 3


def test_upsert_when_candles_are_identical_counts_them_unchanged(
    store: CandleStore, candle: CandleFactory
) -> None:
    store.upsert([candle(0), candle(1, trade_count=4)])
    result = store.upsert([candle(0), candle(1, trade_count=4)])
    assert counts(result) == (0, 0, 2)
    assert result.changed == ()
    assert store.count() == 2


def test_upsert_when_a_candle_differs_replaces_it_and_names_its_key(
    store: CandleStore, candle: CandleFactory
) -> None:
    store.upsert([candle(0), candle(1)])
    revised = candle(1, volume=99.0)
    result = store.upsert([candle(0), revised, candle(2)])
    assert counts(result) == (1, 1, 1)
    assert result.replaced_keys == (("EUR_USD", "IG", revised.timestamp),)
    assert result.changed == (revised, candle(2))
    assert store.latest("EUR_USD", 10) == [candle(0), revised, candle(2)]


def test_upsert_when_only_an_extra_differs_counts_a_replacement(
    store: CandleStore, candle: CandleFactory
) -> None:
    store.upsert([candle(0, trade_count=5)])
    assert counts(store.upsert([candle(0, trade_count=6)])) == (0, 1, 0)
    assert counts(store.upsert([candle(0)])) == (0, 1, 0)  # an extra that went back to unknown
    assert store.latest("EUR_USD", 1) == [candle(0)]


def test_upsert_of_an_empty_batch_changes_nothing(store: CandleStore) -> None:
    assert store.upsert([]) == UpsertResult()
    assert store.count() == 0


def test_upsert_when_a_key_repeats_in_one_batch_the_last_wins_and_each_occurrence_counts(
    store: CandleStore, candle: CandleFactory
) -> None:
    first, second = candle(0, volume=1.0), candle(0, volume=2.0)
    result = store.upsert([first, second, second])
    assert counts(result) == (1, 1, 1)
    assert result.replaced_keys == (second.key,)
    assert result.changed == (first, second)
    assert store.latest("EUR_USD", 10) == [second]

    result = store.upsert([first, second])  # each compared with what the key holds at that point
    assert counts(result) == (0, 2, 0)
    assert result.replaced_keys == (first.key, first.key)
    assert store.latest("EUR_USD", 10) == [second]
    assert store.count() == 1


def test_upsert_when_the_database_refuses_a_later_row_stores_nothing(
    store: CandleStore, candle: CandleFactory
) -> None:
    # Candle validation stops bad input before any store sees it, so a failing write is provoked by
    # smuggling a broken candle past it: the database's CHECK constraint refuses the third row after the
    # first two were written (SQLite writes row by row; PostgreSQL's single INSERT fails as a whole).
    store.upsert([candle(0)])
    assert store.latest("EUR_USD", 5) == [candle(0)]  # loads the hot window, if there is one
    broken = candle(1, symbol="GBP_USD")
    object.__setattr__(broken, "low", broken.high + 1.0)

    with pytest.raises(StoreError, match="nothing was stored"):
        store.upsert([candle(0, volume=50.0), candle(2), broken])

    assert store.count() == 1
    assert store.latest("EUR_USD", 5) == [candle(0)]
    assert store.latest("GBP_USD", 5) == []
    assert [(row.symbol, row.count) for row in store.inventory()] == [("EUR_USD", 1)]
    assert counts(store.upsert([candle(0, volume=50.0)])) == (0, 1, 0)  # and the store still works


# --- latest ---------------------------------------------------------------------------------------------


def test_latest_returns_the_newest_candles_oldest_first(
    store: CandleStore, candle: CandleFactory, t0: datetime
) -> None:
    store.upsert([candle(n) for n in (3, 0, 6, 2, 1, 5, 4)])
    got = store.latest("EUR_USD", 3, IG)
    assert [c.timestamp for c in got] == [minute(t0, 4), minute(t0, 5), minute(t0, 6)]
    assert store.latest("EUR_USD", 3) == got


def test_latest_without_a_source_interleaves_by_timestamp_then_source(
    store: CandleStore, candle: CandleFactory
) -> None:
    store.upsert([candle(n, source=IG) for n in range(6)] + [candle(n, source=DB) for n in (2, 4, 6)])
    got = store.latest("EUR_USD", 5)
    assert [(c.timestamp.minute, c.source) for c in got] == [(3, IG), (4, DB), (4, IG), (5, IG), (6, DB)]
    assert [c.source for c in store.latest("EUR_USD", 5, DB)] == [DB, DB, DB]


def test_latest_when_the_limit_exceeds_what_is_stored_returns_everything(
    store: CandleStore, candle: CandleFactory
) -> None:
    batch = [candle(n) for n in range(3)]
    store.upsert(batch)
    assert store.latest("EUR_USD", 4) == batch
    assert store.latest("EUR_USD", 100, IG) == batch
    assert store.latest("EUR_USD", 100, DB) == []


def test_latest_keeps_symbols_apart_and_knows_no_unknown_symbol(
    store: CandleStore, candle: CandleFactory
) -> None:
    store.upsert([candle(0), candle(1, symbol="GBP_USD")])
    assert store.latest("GBP_USD", 10) == [candle(1, symbol="GBP_USD")]
    assert store.latest("USD_JPY", 10) == []


def test_latest_with_limit_zero_is_empty_and_a_negative_limit_is_refused(
    store: CandleStore, candle: CandleFactory
) -> None:
    store.upsert([candle(0)])
    assert store.latest("EUR_USD", 0) == []
    with pytest.raises(ValueError, match="limit"):
        store.latest("EUR_USD", -1)


# --- range ----------------------------------------------------------------------------------------------


def test_range_includes_start_and_excludes_end(
    store: CandleStore, candle: CandleFactory, t0: datetime
) -> None:
    store.upsert([candle(n) for n in range(5)])
    assert store.range("EUR_USD", minute(t0, 1), minute(t0, 3)) == [candle(1), candle(2)]
    assert store.range("EUR_USD", minute(t0, -10), minute(t0, 10)) == [candle(n) for n in range(5)]


def test_range_with_bounds_inside_a_minute_compares_instants(
    store: CandleStore, candle: CandleFactory, t0: datetime
) -> None:
    store.upsert([candle(n) for n in range(5)])
    micro = timedelta(microseconds=1)
    assert store.range("EUR_USD", minute(t0, 1) + micro, minute(t0, 3) + micro) == [candle(2), candle(3)]
    assert store.range("EUR_USD", minute(t0, 1) - micro, minute(t0, 3) - micro) == [candle(1), candle(2)]
    half = timedelta(seconds=30)
    assert store.range("EUR_USD", minute(t0, 1) + half, minute(t0, 2) + half) == [candle(2)]


def test_range_interleaves_sources_and_filters_by_one(
    store: CandleStore, candle: CandleFactory, t0: datetime
) -> None:
    store.upsert([candle(n, source=DB) for n in range(3)] + [candle(n, source=IG) for n in range(3)])
    got = store.range("EUR_USD", minute(t0, 1), minute(t0, 3))
    assert [(c.timestamp.minute, c.source) for c in got] == [(1, DB), (1, IG), (2, DB), (2, IG)]
    assert store.range("EUR_USD", minute(t0, 0), minute(t0, 3), IG) == [candle(n) for n in range(3)]


def test_range_when_end_is_not_after_start_is_empty(
    store: CandleStore, candle: CandleFactory, t0: datetime
) -> None:
    store.upsert([candle(n) for n in range(3)])
    assert store.range("EUR_USD", minute(t0, 1), minute(t0, 1)) == []
    assert store.range("EUR_USD", minute(t0, 2), minute(t0, 1)) == []


def test_range_takes_bounds_in_any_zone_and_refuses_naive_ones(
    store: CandleStore, candle: CandleFactory, t0: datetime
) -> None:
    store.upsert([candle(n) for n in range(3)])
    berlin = ZoneInfo("Europe/Berlin")
    got = store.range("EUR_USD", minute(t0, 1).astimezone(berlin), minute(t0, 9).astimezone(berlin))
    assert got == [candle(1), candle(2)]
    with pytest.raises(ValidationError, match="start"):
        store.range("EUR_USD", minute(t0, 1).replace(tzinfo=None), minute(t0, 2))


# --- inventory and count --------------------------------------------------------------------------------


def test_inventory_counts_each_series_with_its_first_and_last_minute(
    store: CandleStore, candle: CandleFactory, t0: datetime
) -> None:
    store.upsert(
        [candle(n, source=IG) for n in range(5)]
        + [candle(n, source=DB) for n in (3, 2)]
        + [candle(10, symbol="GBP_USD"), candle(11, symbol="ES", source=DB)]
    )
    assert store.inventory() == [
        InventoryRow("ES", DB, 1, minute(t0, 11), minute(t0, 11)),
        InventoryRow("EUR_USD", DB, 2, minute(t0, 2), minute(t0, 3)),
        InventoryRow("EUR_USD", IG, 5, minute(t0, 0), minute(t0, 4)),
        InventoryRow("GBP_USD", IG, 1, minute(t0, 10), minute(t0, 10)),
    ]
    assert store.count() == 9


def test_inventory_of_an_empty_store_is_empty(store: CandleStore) -> None:
    assert store.inventory() == []
    assert store.count() == 0


# --- round trips ----------------------------------------------------------------------------------------


def test_every_candle_field_round_trips_exactly(store: CandleStore, t0: datetime) -> None:
    full = Candle(
        symbol="EUR_USD",
        timestamp=t0,
        open=1.1520000000000001,  # needs all 17 significant digits
        high=1.15250,
        low=1.15180,
        close=1.15220,
        volume=1234.5,
        source=DB,
        volume_type=VolumeType.REAL,
        vwap=1.15215,
        buy_volume=600.25,
        sell_volume=634.0,
        trade_count=2**53 + 1,  # an integer no double can hold
        quote_count=420,
        avg_spread_pips=5e-324,
        max_spread_pips=1e300,
        ofi=-12.5,
        ofi_multi=0.1,
        price_basis=PriceBasis.FUTURES,
        instrument="6EZ5",
        complete=False,
    )
    bare = Candle(
        symbol="EUR_USD",
        timestamp=t0 + timedelta(minutes=1),
        open=1.0,
        high=1.0,
        low=1.0,
        close=1.0,
        volume=0.0,
        source=DB,
        volume_type=VolumeType.REAL,
    )
    store.upsert([full, bare])
    for got in (store.latest("EUR_USD", 2, DB), store.range("EUR_USD", t0, t0 + timedelta(hours=1))):
        assert got == [full, bare]
        assert [c.to_dict() for c in got] == [full.to_dict(), bare.to_dict()]
        assert type(got[0].trade_count) is int
        assert got[0].price_basis is PriceBasis.FUTURES
        assert got[0].complete is False
        assert got[0].volume_type is VolumeType.REAL
    assert counts(store.upsert([full, bare])) == (0, 0, 2)


def test_timestamps_come_back_timezone_aware_in_utc(store: CandleStore, candle: CandleFactory) -> None:
    local = datetime(2025, 11, 4, 15, 0, tzinfo=ZoneInfo("Europe/Berlin"))  # 14:00 UTC
    stored = dataclasses.replace(candle(0), timestamp=local)
    store.upsert([stored])
    utc = datetime(2025, 11, 4, 14, 0, tzinfo=UTC)
    for got in (store.latest("EUR_USD", 1)[0], store.range("EUR_USD", utc, utc + timedelta(minutes=1))[0]):
        assert got.timestamp == utc
        assert got.timestamp.tzinfo is UTC
    (row,) = store.inventory()
    assert (row.first, row.last) == (utc, utc)
    assert row.first.tzinfo is UTC
    assert row.last.tzinfo is UTC


# --- concurrency ----------------------------------------------------------------------------------------


def test_concurrent_upserts_of_the_same_keys_leave_one_row_per_key_from_one_batch(
    store: CandleStore, candle: CandleFactory, t0: datetime
) -> None:
    writers, rounds = 4, 5
    keys = [(n, source) for n in range(20) for source in (IG, DB)]
    stop = threading.Event()

    def write(writer: int) -> list[UpsertResult]:
        batch = [candle(n, source=source, volume=float(writer)) for n, source in keys]
        return [store.upsert(batch) for _ in range(rounds)]

    def read() -> None:
        while not stop.wait(0.001):  # a poller, not a spin loop that would starve the writers of the GIL
            got = store.latest("EUR_USD", 5)
            assert got == sorted(got, key=lambda c: (c.timestamp, c.source.value))

    with ThreadPoolExecutor(writers + 1) as pool:
        reader = pool.submit(read)
        results = [r for f in [pool.submit(write, w) for w in range(writers)] for r in f.result()]
        stop.set()
        reader.result()

    rows = store.range("EUR_USD", t0, minute(t0, 20))
    assert len(rows) == len({c.key for c in rows}) == len(keys) == store.count()
    assert len({c.volume for c in rows}) == 1  # batches are atomic: every row is from the last one
    assert sum(r.inserted for r in results) == len(keys)  # each key reported new exactly once
    assert sum(sum(counts(r)) for r in results) == writers * rounds * len(keys)
    assert store.latest("EUR_USD", 5) == rows[-5:]


def test_concurrent_upserts_of_overlapping_ranges_insert_each_key_once(
    store: CandleStore, candle: CandleFactory, t0: datetime
) -> None:
    def write(writer: int) -> list[UpsertResult]:
        batch = [candle(n, volume=float(writer)) for n in range(writer * 5, writer * 5 + 15)]
        return [store.upsert(batch) for _ in range(3)]

    with ThreadPoolExecutor(4) as pool:
        results = [r for f in [pool.submit(write, w) for w in range(4)] for r in f.result()]

    rows = store.range("EUR_USD", t0, minute(t0, 40))
    assert [c.timestamp for c in rows] == [minute(t0, n) for n in range(30)]
    for row in rows:
        n = row.timestamp.minute - t0.minute
        assert int(row.volume) in {w for w in range(4) if w * 5 <= n < w * 5 + 15}
    assert sum(r.inserted for r in results) == 30
    assert store.latest("EUR_USD", 5) == rows[-5:]
