"""The outbox spool: collectors put candles into a local SQLite spool, a pusher drains it into the hub.

`put` returns only after the candles are committed to disk (WAL, `synchronous=FULL`), so a candle the
collector handed over survives a `kill -9` of the collector and a hub that is down or restarting. The
spool is drained oldest first; rows are deleted only after the hub has acknowledged them.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Final, Self

from fxhub.errors import ConfigError, ValidationError
from fxhub.model import Candle

__all__ = ["BUSY_TIMEOUT_S", "DeadLetter", "Outbox", "OutboxRow"]

BUSY_TIMEOUT_S: Final = 30.0
_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- AUTOINCREMENT: ids never reused, so order survives deletes
    candle TEXT NOT NULL,                  -- Candle.to_dict() as JSON
    queued_ns INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS dead_letter (
    id INTEGER PRIMARY KEY,                -- the row's outbox id
    candle TEXT NOT NULL,
    queued_ns INTEGER NOT NULL,
    dead_ns INTEGER NOT NULL,
    reason TEXT NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """A queued candle; `candle` is None (and `error` says why) when the stored text no longer parses."""

    id: int
    raw: str
    candle: Candle | None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A candle the hub refused, kept with the reason for an operator to inspect."""

    id: int
    raw: str
    queued_at: datetime
    dead_at: datetime
    reason: str


class Outbox:
    """The spool file at `path` (created with its folder if missing). Safe to use from several threads."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._rows_added = threading.Condition(self._lock)
        self._db = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_S
        )
        try:
            mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise ConfigError(
                    f"the outbox {self.path} cannot use SQLite's WAL journal (it got {mode!r}); "
                    "put the outbox on a local disk"
                )
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
        except BaseException:
            self._db.close()
            raise

    def __repr__(self) -> str:
        return f"Outbox({str(self.path)!r})"

    def put(self, candles: Iterable[Candle]) -> int:
        """Queue `candles` in one transaction; returns after the commit, with the number queued."""
        if isinstance(candles, Candle):
            raise ValidationError("candles", candles, "must be a list of candles; wrap one in [candle]")
        now = time.time_ns()
        rows: list[tuple[str, int]] = []
        for index, candle in enumerate(candles):
            if not isinstance(candle, Candle):
                raise ValidationError(f"candles[{index}]", candle, "must be a Candle", where="Outbox.put")
            rows.append((json.dumps(candle.to_dict(), separators=(",", ":")), now))
        if not rows:
            return 0
        with self._lock:
            self._transaction(
                lambda db: db.executemany("INSERT INTO outbox (candle, queued_ns) VALUES (?, ?)", rows)
            )
            self._rows_added.notify_all()
        return len(rows)

    def pending(self) -> int:
        """Candles waiting to be pushed."""
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM outbox").fetchone()[0])

    def peek(self, limit: int) -> list[OutboxRow]:
        """The oldest `limit` queued candles, in the order they were put."""
        with self._lock:
            found = self._db.execute("SELECT id, candle FROM outbox ORDER BY id LIMIT ?", (limit,)).fetchall()
        return [_row(int(row_id), str(raw)) for row_id, raw in found]

    def delete(self, ids: Sequence[int]) -> None:
        """Forget rows the hub has acknowledged."""
        if ids:
            with self._lock:
                self._transaction(
                    lambda db: db.executemany(
                        "DELETE FROM outbox WHERE id = ?", [(row_id,) for row_id in ids]
                    )
                )

    def dead_letter(self, reasons: dict[int, str]) -> None:
        """Move rows (id → reason) to the `dead_letter` table in one transaction."""
        if not reasons:
            return
        now = time.time_ns()
        moves = [(now, reason, row_id) for row_id, reason in reasons.items()]

        def move(db: sqlite3.Connection) -> None:
            db.executemany(
                "INSERT OR REPLACE INTO dead_letter (id, candle, queued_ns, dead_ns, reason) "
                "SELECT id, candle, queued_ns, ?, ? FROM outbox WHERE id = ?",
                moves,
            )
            db.executemany("DELETE FROM outbox WHERE id = ?", [(row_id,) for row_id in reasons])

        with self._lock:
            self._transaction(move)

    def dead_letters(self) -> list[DeadLetter]:
        """Every dead-lettered candle, oldest first."""
        with self._lock:
            found = self._db.execute(
                "SELECT id, candle, queued_ns, dead_ns, reason FROM dead_letter ORDER BY id"
            ).fetchall()
        return [
            DeadLetter(int(row_id), str(raw), _utc(queued), _utc(dead), str(reason))
            for row_id, raw, queued, dead, reason in found
        ]

    def wait_for_rows(self, timeout_s: float) -> bool:
        """Block until a `put` in this process (or `wake`), or `timeout_s`; True if rows are pending."""
        with self._lock:
            self._rows_added.wait(timeout_s)
        return self.pending() > 0

    def wake(self) -> None:
        """Release every `wait_for_rows` now (used to stop a pusher promptly)."""
        with self._lock:
            self._rows_added.notify_all()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _transaction(self, work: Callable[[sqlite3.Connection], object]) -> None:
        """Run `work(db)` between BEGIN IMMEDIATE and COMMIT (caller holds the lock)."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            work(self._db)
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")


def _row(row_id: int, raw: str) -> OutboxRow:
    try:
        return OutboxRow(row_id, raw, Candle.from_dict(json.loads(raw)))
    except (ValueError, TypeError) as error:  # ValidationError is a ValueError
        return OutboxRow(row_id, raw, None, f"the queued text is not a valid candle: {error}")


def _utc(ns: int) -> datetime:
    return datetime.fromtimestamp(ns / 1e9, tz=UTC)
