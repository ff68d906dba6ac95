"""Candles in one SQLite file: the default store of a hub on one machine.

Durability: the file runs in WAL mode with `synchronous=NORMAL`. A committed transaction is in the WAL
file before `upsert` returns, so a push the hub answered survives `kill -9` of the hub process; only an
operating-system crash or power cut may lose the last few transactions (they were not fsynced yet), and
the file stays consistent even then. That trade buys one fsync per checkpoint instead of one per push.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from fxhub.hub.store._rows import (
    candle_from_row,
    check_limit,
    check_range,
    extras_json,
    group_by_series,
    merge_sources,
    newest,
    plan_upsert,
)
from fxhub.hub.store.base import CandleKey, InventoryRow, UpsertResult
from fxhub.hub.store.errors import StoreError
from fxhub.model import Candle, Source

__all__ = ["BUSY_TIMEOUT_SECONDS", "SqliteStore"]

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_SECONDS: Final = 30.0
"""How long a write waits for another connection or process that holds the file's write lock."""
MAX_IDLE_CONNECTIONS: Final = 8
"""Connections kept open between calls; more are opened under load and closed afterwards."""

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND: Final = timedelta(seconds=1)

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS candles (
    symbol      TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    ts          INTEGER NOT NULL,  -- the minute's open, whole seconds since 1970-01-01 UTC
    open        REAL    NOT NULL,
    high        REAL    NOT NULL,
    low         REAL    NOT NULL,
    close       REAL    NOT NULL,
    volume      REAL    NOT NULL,
    volume_type TEXT    NOT NULL,
    extras      TEXT,              -- compact JSON of the extras that are set; NULL when none are
    PRIMARY KEY (symbol, source, ts),
    -- Candle checks these already; the database refuses a row that slipped past it.
    CHECK (0 < low AND low <= open AND open <= high AND low <= close AND close <= high),
    CHECK (volume >= 0)
) WITHOUT ROWID
"""
_COLUMNS: Final = "symbol, source, ts, open, high, low, close, volume, volume_type, extras"
_SELECT_KEYS: Final = (
    f"SELECT {_COLUMNS} FROM candles "  # noqa: S608  # constant text, no user input
    "WHERE symbol = ? AND source = ? AND ts IN (SELECT value FROM json_each(?))"
)
_UPSERT: Final = (
    f"INSERT INTO candles ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "  # noqa: S608
    "ON CONFLICT (symbol, source, ts) DO UPDATE SET open = excluded.open, high = excluded.high, "
    "low = excluded.low, close = excluded.close, volume = excluded.volume, "
    "volume_type = excluded.volume_type, extras = excluded.extras"
)
_LATEST: Final = (
    f"SELECT {_COLUMNS} FROM candles "  # noqa: S608
    "WHERE symbol = ? AND source = ? ORDER BY ts DESC LIMIT ?"
)
_RANGE: Final = (
    f"SELECT {_COLUMNS} FROM candles "  # noqa: S608
    "WHERE symbol = ? AND source = ? AND ts >= ? AND ts < ? ORDER BY ts"
)
_INVENTORY: Final = "SELECT symbol, source, count(*), min(ts), max(ts) FROM candles GROUP BY symbol, source"


def _epoch_seconds(minute: datetime) -> int:
    """A candle's timestamp (a whole UTC minute in 1970..2199, so exact as a float) as epoch seconds.

    `timestamp()` is one C call, cheaper than timedelta arithmetic (it runs twice per pushed row).
    """
    return int(minute.timestamp())


def _epoch_ceil(instant: datetime) -> int:
    return -((_EPOCH - instant) // _SECOND)


def _row(candle: Candle) -> tuple[Any, ...]:
    return (
        candle.symbol,
        candle.source._value_,  # the value itself; `.value` is a slow property (every row of a push)
        _epoch_seconds(candle.timestamp),
        candle.open,
        candle.high,
        candle.low,
        candle.close,
        candle.volume,
        candle.volume_type._value_,
        extras_json(candle),
    )


def _candle(row: Sequence[Any]) -> Candle:
    symbol, source, ts, open_, high, low, close, volume, volume_type, extras = row
    return candle_from_row(
        symbol,
        source,
        datetime.fromtimestamp(ts, UTC),
        (open_, high, low, close),
        volume,
        volume_type,
        json.loads(extras) if extras is not None else None,
    )


class SqliteStore:
    """A `CandleStore` in one SQLite file; several threads and several processes may share the file.

    Each call borrows a connection from a small pool (SQLite connections must not be used by two threads
    at once); writes take the file's write lock up front (`BEGIN IMMEDIATE`) and wait up to
    `BUSY_TIMEOUT_SECONDS` for another writer, so two hub processes on one file queue instead of failing.
    The parent directory is created if missing.
    """

    def __init__(self, path: Path) -> None:
        self._path = Path(path)
        self._lock = threading.Lock()
        self._idle: list[sqlite3.Connection] = []
        self._closed = False
        with self._errors("open"):
            self._path.parent.mkdir(parents=True, exist_ok=True)
            with self._connection() as conn:
                mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
                if str(mode).lower() != "wal":
                    logger.warning(
                        "SQLite store %s runs in journal mode %s, not WAL (a network file system?): "
                        "readers will wait for writers",
                        self._path,
                        mode,
                    )
                conn.execute(_SCHEMA)

    @property
    def path(self) -> Path:
        """The database file."""
        return self._path

    def __repr__(self) -> str:
        return f"SqliteStore({str(self._path)!r})"

    def upsert(self, candles: Sequence[Candle]) -> UpsertResult:
        """Store a batch in one transaction; see `CandleStore` for how it is counted."""
        if not candles:
            return UpsertResult()
        with (
            self._errors("store a batch of candles (nothing was stored)"),
            self._transaction(write=True) as conn,
        ):
            stored: dict[CandleKey, Candle] = {}
            # One query per (symbol, source): the batch's timestamps go in as one JSON array.
            for (symbol, source), group in group_by_series(candles).items():
                stamps = json.dumps(sorted({_epoch_seconds(candle.timestamp) for candle in group}))
                for row in conn.execute(_SELECT_KEYS, (symbol, source.value, stamps)):
                    candle = _candle(row)
                    stored[candle.key] = candle
            plan = plan_upsert(candles, stored)
            conn.executemany(_UPSERT, [_row(candle) for candle in plan.writes])
        return plan.result

    def latest(self, symbol: str, limit: int, source: Source | None = None) -> list[Candle]:
        """The newest `limit` candles, oldest first; one indexed query per source, merged."""
        check_limit(limit)
        if limit == 0:
            return []
        sources = list(Source) if source is None else [source]
        with self._errors("read the latest candles"), self._transaction(write=False) as conn:
            per_source = [
                [_candle(row) for row in reversed(conn.execute(_LATEST, (symbol, s.value, limit)).fetchall())]
                for s in sources
            ]
        return newest(merge_sources(per_source), limit)

    def range(
        self, symbol: str, start: datetime, end: datetime, source: Source | None = None
    ) -> list[Candle]:
        """Candles with start ≤ timestamp < end, ordered by (timestamp, source)."""
        start, end = check_range(start, end)
        # Stored timestamps are whole seconds, so ts ≥ start ⇔ ts ≥ ⌈start⌉ and ts < end ⇔ ts < ⌈end⌉.
        low, high = _epoch_ceil(start), _epoch_ceil(end)
        if high <= low:
            return []
        sources = list(Source) if source is None else [source]
        with self._errors("read a range of candles"), self._transaction(write=False) as conn:
            per_source = [
                [_candle(row) for row in conn.execute(_RANGE, (symbol, s.value, low, high))] for s in sources
            ]
        return merge_sources(per_source)

    def inventory(self) -> list[InventoryRow]:
        """Count, first and last timestamp of every (symbol, source), sorted by symbol then source."""
        with self._errors("read the inventory"), self._connection() as conn:
            rows = conn.execute(_INVENTORY).fetchall()
        items = [
            InventoryRow(
                symbol=symbol,
                source=Source(source),
                count=count,
                first=datetime.fromtimestamp(first, UTC),
                last=datetime.fromtimestamp(last, UTC),
            )
            for symbol, source, count, first, last in rows
        ]
        return sorted(items, key=lambda item: (item.symbol, item.source.value))

    def count(self) -> int:
        """Every stored candle."""
        with self._errors("count the candles"), self._connection() as conn:
            return int(conn.execute("SELECT count(*) FROM candles").fetchone()[0])

    def close(self) -> None:
        """Close the idle connections; connections in use close when their call ends. Idempotent."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise StoreError(
                f"SQLite store {self._path} could not {action}: {exc}; "
                "check that the file is writable and not on a network file system"
            ) from exc
        except OSError as exc:
            raise StoreError(f"SQLite store {self._path} could not {action}: {exc}") from exc

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._closed:
                raise StoreError(f"SQLite store {self._path} is closed; open a new store to use it")
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            # isolation_level=None: no implicit transactions, `_transaction` says BEGIN and COMMIT itself.
            conn = sqlite3.connect(
                self._path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA synchronous=NORMAL")  # why this is safe enough: see the module docstring
        try:
            yield conn
        finally:
            if conn.in_transaction:
                conn.rollback()
            with self._lock:
                keep = not self._closed and len(self._idle) < MAX_IDLE_CONNECTIONS
                if keep:
                    self._idle.append(conn)
            if not keep:
                conn.close()

    @contextmanager
    def _transaction(self, *, write: bool) -> Iterator[sqlite3.Connection]:
        """One transaction: IMMEDIATE for writes (no lock upgrade that could fail), a snapshot for reads."""
        with self._connection() as conn:
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            conn.execute("COMMIT")
