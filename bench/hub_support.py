"""What the hub benchmark needs around the hub: a real `fxhub serve` process, throwaway PostgreSQL
databases, realistic candles and a fast bulk fill (the concurrent load is in `bench.load`).

The hub process is started the way the hub tests start theirs (a free port on loopback, a scrubbed
environment, a working folder of its own, ready once /healthz answers); the code is its own.
"""

from __future__ import annotations

import os
import random
import secrets
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

import psycopg
from psycopg import sql

from fxhub.hub.server.process import (
    HUB_ENV_SETTINGS,
    free_port,
    serve_command,
    stop_process,
    wait_until_answering,
)
from fxhub.model import Candle, PriceBasis, Source, VolumeType

__all__ = [
    "PAIRS",
    "HubProcess",
    "HubStartError",
    "create_database",
    "drop_database",
    "grow_postgres",
    "grow_sqlite",
    "market_candles",
]

STARTUP_TIMEOUT_S: Final = 60.0
STOP_TIMEOUT_S: Final = 15.0
_PORT_ATTEMPTS: Final = 3
# Variables of the caller's shell that would leak into the hub under measurement.
TABLE: Final = "candles"
"""The table both stores keep candles in (the bulk fill copies its rows)."""


# --- candles ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Pair:
    symbol: str
    mid: float  # where the random walk starts
    pip: float
    digits: int
    future: str  # the CME contract the DATABENTO minutes come from
    epic: str  # the IG epic the IG minutes come from
    basis: float  # futures premium over spot, as a fraction


PAIRS: Final = (
    Pair("EUR_USD", 1.0850, 0.0001, 5, "6EZ5", "CS.D.EURUSD.MINI.IP", 0.0032),
    Pair("GBP_USD", 1.2700, 0.0001, 5, "6BZ5", "CS.D.GBPUSD.MINI.IP", 0.0011),
    Pair("USD_JPY", 151.20, 0.01, 3, "6JZ5", "CS.D.USDJPY.MINI.IP", -0.0045),
)


def _fx_open(minute: datetime) -> bool:
    """Spot FX trades from Sunday 22:00 to Friday 22:00 UTC."""
    day, hour = minute.weekday(), minute.hour
    return not (day == 5 or (day == 4 and hour >= 22) or (day == 6 and hour < 22))


def market_candles(count: int, *, start: datetime, seed: int = 7) -> list[Candle]:
    """`count` candles as the collectors make them: for every open minute from `start`, one DATABENTO
    (futures, real volume, every extra) and one IG (spot, tick volume) candle of each pair in `PAIRS`,
    in time order — the mix a hub receives when all collectors run.
    """
    rng = random.Random(seed)
    mids = [pair.mid for pair in PAIRS]
    out: list[Candle] = []
    minute = start
    while len(out) < count:
        if _fx_open(minute):
            for index, pair in enumerate(PAIRS):
                open_ = mids[index]
                close = open_ + rng.gauss(0.0, 1.5 * pair.pip)
                high = max(open_, close) + abs(rng.gauss(0.0, 0.8 * pair.pip))
                low = min(open_, close) - abs(rng.gauss(0.0, 0.8 * pair.pip))
                mids[index] = close
                out.append(_databento(rng, pair, minute, (open_, high, low, close)))
                out.append(_ig(rng, pair, minute, (open_, high, low, close)))
        minute += timedelta(minutes=1)
    return out[:count]


_Ohlc = tuple[float, float, float, float]


def _prices(ohlc: _Ohlc, scale: float, digits: int) -> _Ohlc:
    # Rounding is monotone, so low ≤ open, close ≤ high survives it.
    open_, high, low, close = (round(price * scale, digits) for price in ohlc)
    return open_, high, low, close


def _databento(rng: random.Random, pair: Pair, minute: datetime, ohlc: _Ohlc) -> Candle:
    open_, high, low, close = _prices(ohlc, 1.0 + pair.basis, pair.digits)
    volume = float(int(rng.lognormvariate(4.0, 0.8)) + 1)
    buy = float(round(volume * rng.uniform(0.3, 0.7)))
    spread = round(rng.uniform(0.3, 0.8), 3)
    return Candle(
        symbol=pair.symbol,
        timestamp=minute,
        open=open_,
        high=high,
        low=low,
        close=close,
        volume=volume,
        source=Source.DATABENTO,
        volume_type=VolumeType.REAL,
        vwap=round(rng.uniform(low, high), pair.digits + 1),
        buy_volume=buy,
        sell_volume=volume - buy,
        trade_count=max(1, int(volume / rng.uniform(1.5, 4.0))),
        quote_count=int(rng.uniform(200, 2000)),
        avg_spread_pips=spread,
        max_spread_pips=round(spread + rng.uniform(0.0, 1.5), 3),
        ofi=round(rng.gauss(0.0, 40.0), 1),
        ofi_multi=round(rng.gauss(0.0, 0.2), 4),
        price_basis=PriceBasis.FUTURES,
        instrument=pair.future,
    )


def _ig(rng: random.Random, pair: Pair, minute: datetime, ohlc: _Ohlc) -> Candle:
    open_, high, low, close = _prices(ohlc, 1.0, pair.digits)
    quotes = int(rng.uniform(20, 250))
    spread = round(rng.uniform(0.6, 1.0), 3)
    return Candle(
        symbol=pair.symbol,
        timestamp=minute,
        open=open_,
        high=high,
        low=low,
        close=close,
        volume=float(quotes),
        source=Source.IG,
        volume_type=VolumeType.TICK,
        quote_count=quotes,
        avg_spread_pips=spread,
        max_spread_pips=round(spread + rng.uniform(0.0, 1.0), 3),
        price_basis=PriceBasis.SPOT,
        instrument=pair.epic,
    )


# --- the hub process -------------------------------------------------------------------------------


class HubStartError(RuntimeError):
    """The hub exited or did not answer in time; the message ends with its log."""


class HubProcess:
    """One `python -m fxhub serve` on loopback with its own token; use it as a context manager."""

    def __init__(self, store_url: str, workdir: Path, *, hot_window: int | None = None) -> None:
        self.store_url = store_url
        self.workdir = workdir
        self.hot_window = hot_window
        self.token = secrets.token_urlsafe(32)
        self.port = 0
        self.starts = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / "hub.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> HubProcess:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start on a free port and wait until it answers."""
        for attempt in range(_PORT_ATTEMPTS):
            self.port = free_port()
            try:
                self._spawn_and_wait()
                return
            except HubStartError as exc:
                if "address already in use" not in str(exc).lower() or attempt == _PORT_ATTEMPTS - 1:
                    raise

    def _spawn_and_wait(self) -> None:
        self.starts += 1
        self.log_path = self.workdir / f"hub-{self.starts:02d}.log"
        env = {key: value for key, value in os.environ.items() if key not in HUB_ENV_SETTINGS}
        # The token file is never read while FXHUB_TOKEN is set; pointing it here keeps ~/.config out.
        env |= {
            "FXHUB_TOKEN": self.token,
            "FXHUB_TOKEN_FILE": str(self.workdir / "hub.token"),
            "PYTHONUNBUFFERED": "1",
        }
        extra = ["--hot-window", str(self.hot_window)] if self.hot_window is not None else []
        command = serve_command(port=self.port, store=self.store_url, log_level="WARNING", extra=extra)
        with self.log_path.open("wb") as log:
            # cwd is the bench's own folder, so no developer .env is read.
            self.process = subprocess.Popen(
                command, cwd=self.workdir, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        # Ready once /metrics answers: uvicorn accepts connections only after the app started. Not
        # /healthz: at 10M rows on PostgreSQL its first count takes seconds, on the cores the
        # measurements that follow need. The benchmark times /healthz on its own, where it says so.
        problem = wait_until_answering(self.process, self.url, path="/metrics", timeout_s=STARTUP_TIMEOUT_S)
        if problem is not None:
            self.stop()
            self._fail(problem)

    def _fail(self, what: str) -> None:
        raise HubStartError(f"hub on port {self.port} {what}; its log ({self.log_path}):\n{self.log_text()}")

    def log_text(self) -> str:
        return self.log_path.read_text("utf-8", "replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after `STOP_TIMEOUT_S`; idempotent."""
        process, self.process = self.process, None
        stop_process(process, STOP_TIMEOUT_S)


# --- PostgreSQL ------------------------------------------------------------------------------------


def database_url(admin_url: str, name: str) -> str:
    """`admin_url` pointed at database `name` (user, host, port and options kept)."""
    return urlsplit(admin_url)._replace(path=f"/{name}").geturl()


def create_database(admin_url: str, name: str) -> str:
    """CREATE DATABASE `name` (dropping a leftover of a killed run first); its URL."""
    drop_database(admin_url, name)
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return database_url(admin_url, name)


def drop_database(admin_url: str, name: str) -> None:
    """DROP DATABASE `name` if it exists, ending its sessions; idempotent."""
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# --- bulk fill -------------------------------------------------------------------------------------
#
# The store's own upsert builds and validates a Candle per row and classifies every batch: right for a
# hub, far too slow to put 10 million rows in (measured in the bench). The fill below instead copies the
# rows the store itself wrote, shifted further and further back in time, with one INSERT ... SELECT per
# chunk inside the database. It needs the table's name and its `ts` column, nothing else: the other
# columns are read from the catalogue and copied as they are, so the copies are the store's own rows.


def _chunks(rows: int, target: int, per_chunk: int) -> Iterator[tuple[int, int, int | None]]:
    """(first copy, last copy, row limit or None) so that `rows` originals grow to `target` rows."""
    copies = target // rows  # counting the originals
    first = 1
    while first < copies:
        last = min(copies - 1, first + per_chunk - 1)
        yield first, last, None
        first = last + 1
    rest = target - copies * rows
    if rest:
        yield copies, copies, rest


def grow_sqlite(path: Path, target: int) -> int:
    """Grow the SQLite store at `path` to `target` rows by copying its rows back in time; rows added."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous=OFF")  # a bulk fill: nothing to lose if the machine dies
        columns = [str(row[1]) for row in conn.execute(f"PRAGMA table_info({TABLE})")]
        low, high, rows = conn.execute(f"SELECT min(ts), max(ts), count(*) FROM {TABLE}").fetchone()
        span = high - low + 60  # whole seconds; the copies never overlap the originals or each other
        at = columns.index("ts") + 1
        select = ", ".join("ts - k.i * :span" if name == "ts" else name for name in columns)
        statement = (
            "WITH RECURSIVE k(i) AS (SELECT :first UNION ALL SELECT i + 1 FROM k WHERE i < :last) "
            f"INSERT INTO {TABLE} ({', '.join(columns)}) SELECT {select} FROM {TABLE}, k "
            f"WHERE {TABLE}.ts >= :low ORDER BY 1, 2, {at} LIMIT :limit"
        )
        before = conn.total_changes  # rowcount is -1 for a statement that starts with WITH
        for first, last, limit in _chunks(rows, target, per_chunk=50):
            conn.execute("BEGIN")
            conn.execute(
                statement,
                {
                    "first": first,
                    "last": last,
                    "span": span,
                    "low": low,
                    "limit": -1 if limit is None else limit,
                },
            )
            conn.execute("COMMIT")
        added = conn.total_changes - before
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the hub should not start on a 2 GB WAL
        return added
    finally:
        conn.close()


def grow_postgres(url: str, target: int) -> int:
    """Grow the PostgreSQL store at `url` to `target` rows by copying its rows back in time, then
    VACUUM ANALYZE (so autovacuum does not wake up in the middle of the measurements); rows added."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET synchronous_commit = off")
        columns = [
            str(row[0])
            for row in conn.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = %s ORDER BY ordinal_position",
                [TABLE],
            )
        ]
        bounds = conn.execute(
            sql.SQL("SELECT min(ts), max(ts), count(*) FROM {}").format(sql.Identifier(TABLE))
        )
        row = bounds.fetchone()
        assert row is not None
        low, high, rows = row
        span = high - low + timedelta(minutes=1)
        at = columns.index("ts") + 1
        select = sql.SQL(", ").join(
            sql.SQL("ts - k.i * {}::interval").format(sql.Placeholder("span"))
            if name == "ts"
            else sql.Identifier(name)
            for name in columns
        )
        statement = sql.SQL(
            "INSERT INTO {table} ({columns}) SELECT {select} FROM {table}, "
            "generate_series(%(first)s::int, %(last)s::int) AS k(i) "
            "WHERE ts >= %(low)s ORDER BY 1, 2, {at} LIMIT %(limit)s"
        ).format(
            table=sql.Identifier(TABLE),
            columns=sql.SQL(", ").join(sql.Identifier(name) for name in columns),
            select=select,
            at=sql.Literal(at),
        )
        added = 0
        for first, last, limit in _chunks(rows, target, per_chunk=100):
            cursor = conn.execute(
                statement, {"first": first, "last": last, "span": span, "low": low, "limit": limit}
            )
            added += cursor.rowcount
        conn.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(TABLE)))
        return added
