"""The durable outbox collectors push through: a local SQLite spool and the pusher that drains it.

`Outbox.put` returns only after the candles are committed to disk, so a candle the collector handed
over survives a `kill -9` of the collector and a hub that is down or restarting. `OutboxPusher` drains
the spool into the hub oldest first and deletes rows only after the hub has acknowledged them.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from fxhub.errors import ValidationError
from fxhub.hub.client._protocol import MAX_CANDLES_PER_PUSH
from fxhub.hub.client._spool import DeadLetter, Outbox, OutboxRow
from fxhub.hub.client.errors import HubError, HubRejected, HubServerError, HubUnreachable
from fxhub.hub.client.sync import HubClient

__all__ = [
    "IDLE_POLL_S",
    "INITIAL_BACKOFF_S",
    "MAX_BACKOFF_S",
    "DeadLetter",
    "Outbox",
    "OutboxPusher",
    "OutboxRow",
    "PusherStats",
]

logger = logging.getLogger(__name__)

INITIAL_BACKOFF_S: Final = 0.1
MAX_BACKOFF_S: Final = 5.0
IDLE_POLL_S: Final = 0.5
_REASON_CHARS: Final = 2000


@dataclass(frozen=True, slots=True)
class PusherStats:
    """Counters since the pusher was made: candles pushed, failed attempts, candles dead-lettered."""

    pushed: int = 0
    retries: int = 0
    dead_lettered: int = 0
    last_success: datetime | None = None
    last_error: str | None = None


class OutboxPusher:
    """Drains an `Outbox` into the hub, oldest candles first, one batch at a time.

    - Success: exactly the pushed rows are deleted.
    - `HubUnreachable` or a 5xx: the rows stay; the next attempt waits an exponential backoff with
      jitter (`backoff_s`), from `initial_backoff_s` up to `max_backoff_s`.
    - `HubRejected` (422): the candles the hub named are moved to the `dead_letter` table with the
      hub's reason and an ERROR is logged; the rest of the batch is pushed on the next attempt, so one
      poison candle never blocks the queue. Without per-candle reasons the whole batch is dead-lettered.
      A 413 halves the batch size instead, down to a single candle.
    - `HubUnauthorized` (and any other `HubError`) is raised: that is configuration, not data.

    A crash between "pushed" and "deleted" pushes those candles again after a restart. That is harmless:
    the hub's upsert is idempotent on (symbol, source, timestamp), so a repeat is counted as unchanged.
    """

    def __init__(
        self,
        outbox: Outbox,
        client: HubClient,
        *,
        batch_size: int = 1000,
        initial_backoff_s: float = INITIAL_BACKOFF_S,
        max_backoff_s: float = MAX_BACKOFF_S,
        idle_poll_s: float = IDLE_POLL_S,
        rng: random.Random | None = None,
    ) -> None:
        if isinstance(batch_size, bool) or not 1 <= batch_size <= MAX_CANDLES_PER_PUSH:
            raise ValidationError(
                "batch_size", batch_size, f"must be from 1 to {MAX_CANDLES_PER_PUSH:,}", where="OutboxPusher"
            )
        self.outbox = outbox
        self.client = client
        self.batch_size = batch_size
        self._initial_backoff_s = initial_backoff_s
        self._max_backoff_s = max_backoff_s
        self._idle_poll_s = idle_poll_s
        self._rng = rng or random.Random()
        self._failures = 0
        self._backoff_s = 0.0
        self._stats = PusherStats()
        self._stats_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.failure: BaseException | None = None

    @property
    def stats(self) -> PusherStats:
        with self._stats_lock:
            return self._stats

    @property
    def backoff_s(self) -> float:
        """How long `run` waits before the next attempt: 0 after a success."""
        return self._backoff_s

    def drain_once(self) -> int:
        """Push the oldest batch; returns how many candles the hub stored (0 if none queued or it failed)."""
        rows = self.outbox.peek(self.batch_size)
        unreadable = {row.id: row.error or "unreadable" for row in rows if row.candle is None}
        if unreadable:
            self._dead_letter(unreadable)
            rows = [row for row in rows if row.candle is not None]
        if not rows:
            return 0
        candles = [row.candle for row in rows if row.candle is not None]
        try:
            result = self.client.push_candles(candles)
        except (HubUnreachable, HubServerError) as error:
            self._failed(error)
            return 0
        except HubRejected as error:
            return self._rejected(rows, error)
        self.outbox.delete([row.id for row in rows])
        self._failures, self._backoff_s = 0, 0.0
        self._update(pushed=len(rows), last_success=datetime.now(UTC))
        logger.debug(
            "outbox pushed: candles=%d inserted=%d replaced=%d unchanged=%d",
            len(rows),
            result.inserted,
            result.replaced,
            result.unchanged,
        )
        return len(rows)

    def run(self, stop: threading.Event) -> None:
        """Drain until `stop` is set, waiting for new candles when idle and backing off on failures."""
        while not stop.is_set():
            pushed = self.drain_once()
            if self._failures:
                stop.wait(self._backoff_s)
            elif pushed == 0 and self.outbox.pending() == 0:
                self.outbox.wait_for_rows(self._idle_poll_s)

    def start(self) -> None:
        """Run in a background (daemon) thread until `stop`."""
        if self._thread is not None:
            raise RuntimeError("this OutboxPusher was already started")
        self._stop.clear()
        self._thread = threading.Thread(target=self._run_guarded, name="fxhub-outbox-pusher", daemon=True)
        self._thread.start()

    def stop(self, drain_timeout_s: float = 5.0) -> int:
        """Stop the thread, then push what is left for up to `drain_timeout_s`; returns candles still queued.

        A hub that is down does not hold up the shutdown: the candles stay in the outbox for the next
        start. Re-raises the error that ended the thread early (such as `HubUnauthorized`).
        """
        deadline = time.monotonic() + drain_timeout_s
        self._stop.set()
        self.outbox.wake()
        if self._thread is not None:
            self._thread.join(max(0.0, deadline - time.monotonic()))
            if self._thread.is_alive():
                return self.outbox.pending()  # stuck in a request: leave the rest queued
            self._thread = None
        if self.failure is not None:
            raise self.failure
        while time.monotonic() < deadline and self.drain_once() > 0:
            pass
        return self.outbox.pending()

    def _run_guarded(self) -> None:
        try:
            self.run(self._stop)
        except BaseException as error:
            self.failure = error
            self._update(last_error=str(error))
            logger.error("outbox pusher stopped: %s", error, exc_info=error)

    def _failed(self, error: HubError) -> None:
        self._failures += 1
        ceiling = min(self._max_backoff_s, self._initial_backoff_s * 2 ** (self._failures - 1))
        self._backoff_s = self._rng.uniform(ceiling / 2, ceiling)
        self._update(retries=1, last_error=str(error))
        logger.warning(
            "outbox push failed, will retry: attempt=%d backoff_s=%.3f pending=%d error=%s",
            self._failures,
            self._backoff_s,
            self.outbox.pending(),
            error,
        )

    def _rejected(self, rows: list[OutboxRow], error: HubRejected) -> int:
        stored = rows[: error.stored_before]
        self.outbox.delete([row.id for row in stored])
        rest = rows[error.stored_before :]
        if error.status_code == 413 and len(rest) > 1:
            self.batch_size = max(1, len(rest) // 2)
            logger.warning("hub refused the batch as too large; batch_size=%d now", self.batch_size)
            self._update(pushed=len(stored))
            return len(stored)
        named: dict[int, str] = {}
        for reason in error.reasons:
            index = reason.get("index")
            if (
                isinstance(index, int)
                and not isinstance(index, bool)
                and 0 <= index - len(stored) < len(rest)
            ):
                row_id = rest[index - len(stored)].id
                text = json.dumps(reason, default=str)
                named[row_id] = f"{named[row_id]}; {text}" if row_id in named else text
        if not named:
            named = {row.id: str(error) for row in rest}
        self._dead_letter({row_id: reason[:_REASON_CHARS] for row_id, reason in named.items()})
        self._update(pushed=len(stored))
        return len(stored)

    def _dead_letter(self, reasons: dict[int, str]) -> None:
        self.outbox.dead_letter(reasons)
        self._update(dead_lettered=len(reasons))
        first_id, first_reason = next(iter(reasons.items()))
        logger.error(
            "outbox dead-lettered candles the hub refused: count=%d outbox=%s first_id=%d reason=%s",
            len(reasons),
            self.outbox.path,
            first_id,
            first_reason,
        )

    def _update(
        self,
        *,
        pushed: int = 0,
        retries: int = 0,
        dead_lettered: int = 0,
        last_success: datetime | None = None,
        last_error: str | None = None,
    ) -> None:
        with self._stats_lock:
            old = self._stats
            self._stats = PusherStats(
                pushed=old.pushed + pushed,
                retries=old.retries + retries,
                dead_lettered=old.dead_lettered + dead_lettered,
                last_success=last_success or old.last_success,
                last_error=last_error or old.last_error,
            )
