"""What SqliteStore promises beyond the contract: the file, its durability, several writers, speed."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest

from fxhub.hub.store import SqliteStore, StoreError
from fxhub.model import Candle, Source

CandleFactory = Callable[..., Candle]


def test_opening_creates_the_parent_directories_and_a_wal_file(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "hub.sqlite3"
    SqliteStore(path).close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        # WITHOUT ROWID: the primary key (symbol, source, ts) is the table's only index.
        assert conn.execute("PRAGMA index_list(candles)").fetchall()[0][3] == "pk"
    conn.close()


def test_timestamps_are_stored_as_integer_epoch_seconds(tmp_path: Path, candle: CandleFactory) -> None:
    store = SqliteStore(tmp_path / "hub.sqlite3")
    c = candle(0)
    store.upsert([c])
    store.close()
    conn = sqlite3.connect(tmp_path / "hub.sqlite3")
    row = conn.execute("SELECT ts, typeof(ts), extras FROM candles").fetchone()
    conn.close()
    assert row == (int(c.timestamp.timestamp()), "integer", None)


def test_a_batch_that_returned_survives_kill_9_of_the_process(tmp_path: Path) -> None:
    path = tmp_path / "hub.sqlite3"
    script = textwrap.dedent(f"""
        import sys, time
        from datetime import UTC, datetime, timedelta
        from pathlib import Path
        from fxhub.hub.store import SqliteStore
        from fxhub.model import Candle, Source, VolumeType
        store = SqliteStore(Path({str(path)!r}))
        t0 = datetime(2025, 11, 4, 13, 0, tzinfo=UTC)
        store.upsert([
            Candle(symbol="EUR_USD", timestamp=t0 + timedelta(minutes=n), open=1.1, high=1.1, low=1.1,
                   close=1.1, volume=1.0, source=Source.IG, volume_type=VolumeType.TICK)
            for n in range(500)
        ])
        print("stored", flush=True)
        time.sleep(60)
    """)
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "stored"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
        if child.stdout is not None:
            child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    store = SqliteStore(path)
    try:
        assert store.count() == 500
    finally:
        store.close()


def test_two_stores_on_one_file_write_at_once_without_busy_errors(
    tmp_path: Path, candle: CandleFactory
) -> None:
    # Two stores have separate connections, as two hub processes on one file would.
    path = tmp_path / "hub.sqlite3"
    first, second = SqliteStore(path), SqliteStore(path)

    def write(store: SqliteStore) -> int:
        return sum(store.upsert([candle(20 * n + k) for k in range(20)]).inserted for n in range(10))

    try:
        with ThreadPoolExecutor(4) as pool:
            inserted = [f.result() for f in [pool.submit(write, store) for store in [first, second] * 2]]
        assert sum(inserted) == 200  # four writers of the same 200 keys: each reported new once
        assert first.count() == second.count() == 200
    finally:
        first.close()
        second.close()


def test_a_batch_of_10000_is_stored_classified_and_read_quickly(
    tmp_path: Path, candle: CandleFactory
) -> None:
    store = SqliteStore(tmp_path / "hub.sqlite3")
    batch = [candle(n, source=Source.IG if n % 2 else Source.DATABENTO) for n in range(10_000)]
    try:
        started = time.perf_counter()
        assert store.upsert(batch).inserted == 10_000
        assert store.upsert(batch).unchanged == 10_000
        assert store.upsert([candle(n, volume=2.0) for n in range(1, 2_000, 2)]).replaced == 1_000
        assert len(store.latest("EUR_USD", 10_000)) == 10_000
        elapsed = time.perf_counter() - started
    finally:
        store.close()
    assert elapsed < 5.0  # about 0.5 s on a laptop; a query per candle would take far longer


def test_a_closed_store_refuses_calls(tmp_path: Path, candle: CandleFactory) -> None:
    store = SqliteStore(tmp_path / "hub.sqlite3")
    store.close()
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.upsert([candle(0)])


def test_a_path_that_cannot_be_a_database_raises_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreError, match=r"SQLite store .*file.*could not open"):
        SqliteStore(blocker / "hub.sqlite3")


def test_data_survives_closing_and_reopening(tmp_path: Path, candle: CandleFactory) -> None:
    path = tmp_path / "hub.sqlite3"
    store = SqliteStore(path)
    store.upsert([candle(0, trade_count=3), candle(1)])
    store.close()
    store = SqliteStore(path)
    try:
        assert store.latest("EUR_USD", 5) == [candle(0, trade_count=3), candle(1)]
        assert store.range("EUR_USD", candle(1).timestamp, candle(1).timestamp + timedelta(minutes=1)) == [
            candle(1)
        ]
    finally:
        store.close()
