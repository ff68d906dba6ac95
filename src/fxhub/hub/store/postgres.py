"""Candles in PostgreSQL: for hubs that share one database or keep years of minutes.

A write locks the (symbol, source) series it touches with transaction-scoped advisory locks, taken in a
fixed order, then reads the stored rows of the batch's keys, classifies the batch in Python (exactly as
the SQLite store does) and writes the new and revised rows in one `INSERT ... SELECT FROM
json_to_recordset(...) ON CONFLICT DO UPDATE`. The lock makes the classification exact when several hubs
or threads write the same series: two writers can never both report the same minute as inserted.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Final

import orjson
import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool

from fxhub.errors import ConfigError
from fxhub.hub.store._rows import (
    candle_from_row,
    check_limit,
    check_range,
    extras_dict,
    group_by_series,
    merge_sources,
    newest,
    plan_upsert,
)
from fxhub.hub.store.base import CandleKey, InventoryRow, UpsertResult
from fxhub.hub.store.errors import StoreError
from fxhub.model import Candle, Source
from fxhub.settings import mask_store_url

__all__ = ["CONNECT_TIMEOUT_SECONDS", "PostgresStore"]

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT_SECONDS: Final = 10
"""How long opening the store waits for the server before it fails (libpq wants whole seconds)."""

_TABLE_NAME: Final = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_COLUMNS: Final = sql.SQL("symbol, source, ts, open, high, low, close, volume, volume_type, extras")

_CREATE: Final = sql.SQL("""
CREATE TABLE IF NOT EXISTS {table} (
    symbol      text             NOT NULL,
    source      text             NOT NULL,
    ts          timestamptz      NOT NULL,  -- the minute's open
    open        double precision NOT NULL,
    high        double precision NOT NULL,
    low         double precision NOT NULL,
    close       double precision NOT NULL,
    volume      double precision NOT NULL,
    volume_type text             NOT NULL,
    extras      jsonb,                      -- the extras that are set; NULL when none are
    PRIMARY KEY (symbol, source, ts),
    -- Candle checks these already; the database refuses a row that slipped past it.
    CHECK (0 < low AND low <= open AND open <= high AND low <= close AND close <= high),
    CHECK (volume >= 0)
)""")
# Batches go in as text: psycopg escapes array parameters element by element in Python (a 1,000-candle
# upsert spent ~40 ms there), so the rows go as one JSON text (orjson) and the keys as an array literal.
_SELECT_KEYS: Final = sql.SQL(
    "SELECT {columns} FROM {table} WHERE symbol = %s AND source = %s AND ts = ANY(%s::timestamptz[])"
)
_UPSERT: Final = sql.SQL(
    "INSERT INTO {table} ({columns}) "
    "SELECT {columns} FROM json_to_recordset(%s::json) AS r(symbol text, source text, ts timestamptz, "
    "open float8, high float8, low float8, close float8, volume float8, volume_type text, extras jsonb) "
    "ON CONFLICT (symbol, source, ts) DO UPDATE SET open = EXCLUDED.open, high = EXCLUDED.high, "
    "low = EXCLUDED.low, close = EXCLUDED.close, volume = EXCLUDED.volume, "
    "volume_type = EXCLUDED.volume_type, extras = EXCLUDED.extras"
)
_LATEST: Final = sql.SQL(
    "SELECT {columns} FROM {table} WHERE symbol = %s AND source = %s ORDER BY ts DESC LIMIT %s"
)
_RANGE: Final = sql.SQL(
    "SELECT {columns} FROM {table} WHERE symbol = %s AND source = %s AND ts >= %s AND ts < %s ORDER BY ts"
)
_INVENTORY: Final = sql.SQL("SELECT symbol, source, count(*), min(ts), max(ts) FROM {table} GROUP BY 1, 2")
_COUNT: Final = sql.SQL("SELECT count(*) FROM {table}")


def _candle(row: Sequence[Any]) -> Candle:
    symbol, source, ts, open_, high, low, close, volume, volume_type, extras = row
    return candle_from_row(symbol, source, ts, (open_, high, low, close), volume, volume_type, extras)


def _rows_json(candles: Sequence[Candle]) -> str:
    """The rows to write as the JSON array of objects `json_to_recordset` reads (see `_UPSERT`)."""
    rows = [
        {
            "symbol": c.symbol,
            "source": c.source,
            "ts": c.timestamp,  # RFC 3339 with its +00:00 offset
            "open": c.open,
            "high": c.high,
            "low": c.low,
            "close": c.close,
            "volume": c.volume,
            "volume_type": c.volume_type,
            "extras": extras_dict(c),
        }
        for c in candles
    ]
    return _json_text(rows)


def _json_text(value: object) -> str:
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError as exc:  # text PostgreSQL could not take either (a lone surrogate)
        raise StoreError(f"a candle of the batch cannot be stored as UTF-8 text: {exc}") from exc


def _array_literal(stamps: Sequence[datetime]) -> str:
    """`{2025-11-04T13:00:00+00:00,...}`: ISO times need no quoting inside an array literal."""
    return "{" + ",".join(stamp.isoformat() for stamp in stamps) + "}"


class PostgresStore:
    """A `CandleStore` in one PostgreSQL table, through a `psycopg_pool.ConnectionPool`.

    `conninfo` is a libpq URL or key=value string; it is shown only masked. `table` (a lower-case SQL
    identifier) is created if missing, which lets tests and side-by-side deployments keep apart. Opening
    fails with `StoreError` within `CONNECT_TIMEOUT_SECONDS` when the server does not answer.
    """

    def __init__(
        self, conninfo: str, *, table: str = "candles", min_size: int = 1, max_size: int = 10
    ) -> None:
        if not isinstance(table, str) or not _TABLE_NAME.match(table):
            raise ConfigError(
                "the PostgreSQL table must be a lower-case SQL identifier (letters, digits, underscores, "
                f"at most 63, not starting with a digit) such as 'candles', was {table!r}"
            )
        self._shown = mask_store_url(conninfo)
        self._table_name = table
        names = {"table": sql.Identifier(table), "columns": _COLUMNS}
        self._select_keys = _SELECT_KEYS.format(**names)
        self._upsert = _UPSERT.format(**names)
        self._latest = _LATEST.format(**names)
        self._range = _RANGE.format(**names)
        self._inventory = _INVENTORY.format(**names)
        self._count = _COUNT.format(**names)
        # A direct first connection reports the server's own reason (refused, bad password, no database),
        # which the pool's timeout would hide.
        with (
            self._errors("connect"),
            psycopg.connect(conninfo, connect_timeout=CONNECT_TIMEOUT_SECONDS) as conn,
            conn.transaction(),
        ):
            conn.execute("SELECT pg_advisory_xact_lock(%s)", [self._lock_id("create")])
            conn.execute(_CREATE.format(**names))
        self._pool = ConnectionPool(
            conninfo,
            min_size=min_size,
            max_size=max_size,
            open=False,
            check=ConnectionPool.check_connection,  # a restarted server costs one retry, not an error
            kwargs={"connect_timeout": CONNECT_TIMEOUT_SECONDS},
            name=f"fxhub-store-{table}",
        )
        with self._errors("open a connection pool"):
            self._pool.open(wait=True, timeout=CONNECT_TIMEOUT_SECONDS)
        logger.info("PostgreSQL store %s table %s open", self._shown, table)

    @property
    def table(self) -> str:
        """The table the candles are in."""
        return self._table_name

    def __repr__(self) -> str:
        return f"PostgresStore({self._shown!r}, table={self._table_name!r})"

    def upsert(self, candles: Sequence[Candle]) -> UpsertResult:
        """Store a batch in one transaction; see `CandleStore` for how it is counted."""
        if not candles:
            return UpsertResult()
        groups = group_by_series(candles)
        with (
            self._errors("store a batch of candles (nothing was stored)"),
            self._pool.connection() as conn,
            conn.transaction(),
        ):
            # Sent as one pipeline (one round trip, not one per statement): each round trip also waits
            # for the GIL in a hub whose event loop is busy parsing the next push.
            with conn.pipeline():
                # Series locks in one global order, so two batches over the same series cannot deadlock.
                for lock_id in sorted({self._lock_id(symbol, source.value) for symbol, source in groups}):
                    conn.execute("SELECT pg_advisory_xact_lock(%s)", [lock_id])
                selected = [
                    conn.execute(
                        self._select_keys,
                        [symbol, source.value, _array_literal(sorted({c.timestamp for c in group}))],
                    )
                    for (symbol, source), group in groups.items()
                ]
            stored: dict[CandleKey, Candle] = {}
            for cursor in selected:
                for row in cursor.fetchall():
                    candle = _candle(row)
                    stored[candle.key] = candle
            plan = plan_upsert(candles, stored)
            if plan.writes:
                conn.execute(self._upsert, [_rows_json(plan.writes)])
        return plan.result

    def latest(self, symbol: str, limit: int, source: Source | None = None) -> list[Candle]:
        """The newest `limit` candles, oldest first; one indexed query per source, merged."""
        check_limit(limit)
        if limit == 0:
            return []
        sources = list(Source) if source is None else [source]
        with self._errors("read the latest candles"), self._pool.connection() as conn:
            per_source = [
                [
                    _candle(row)
                    for row in reversed(conn.execute(self._latest, [symbol, s.value, limit]).fetchall())
                ]
                for s in sources
            ]
        return newest(merge_sources(per_source), limit)

    def range(
        self, symbol: str, start: datetime, end: datetime, source: Source | None = None
    ) -> list[Candle]:
        """Candles with start ≤ timestamp < end, ordered by (timestamp, source)."""
        start, end = check_range(start, end)
        if end <= start:
            return []
        sources = list(Source) if source is None else [source]
        with self._errors("read a range of candles"), self._pool.connection() as conn:
            per_source = [
                [_candle(row) for row in conn.execute(self._range, [symbol, s.value, start, end])]
                for s in sources
            ]
        return merge_sources(per_source)

    def inventory(self) -> list[InventoryRow]:
        """Count, first and last timestamp of every (symbol, source), sorted by symbol then source."""
        with self._errors("read the inventory"), self._pool.connection() as conn:
            rows = conn.execute(self._inventory).fetchall()
        items = [
            InventoryRow(
                symbol=symbol,
                source=Source(source),
                count=count,
                first=first.astimezone(UTC),
                last=last.astimezone(UTC),
            )
            for symbol, source, count, first, last in rows
        ]
        # Sorted here, not in SQL: the database's collation may order '_' differently from Python.
        return sorted(items, key=lambda item: (item.symbol, item.source.value))

    def count(self) -> int:
        """Every stored candle (an exact count: a full scan on a large table)."""
        with self._errors("count the candles"), self._pool.connection() as conn:
            row = conn.execute(self._count).fetchone()
        return int(row[0]) if row is not None else 0

    def close(self) -> None:
        """Close the pool and its connections. Idempotent."""
        if hasattr(self, "_pool"):
            self._pool.close()

    def _lock_id(self, *parts: str) -> int:
        """A stable signed 64-bit advisory-lock key for this table and `parts`."""
        text = "\x1f".join(("fxhub", self._table_name, *parts))
        return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big", signed=True)

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        try:
            yield
        except psycopg.Error as exc:
            text = str(exc).strip()
            reason = mask_store_url(text.splitlines()[0] if text else type(exc).__name__)
            raise StoreError(
                f"PostgreSQL store {self._shown} (table {self._table_name}) could not {action}: {reason}; "
                "check that the server runs and the URL, user and password are right"
            ) from exc
