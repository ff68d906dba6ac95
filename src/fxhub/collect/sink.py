"""`HubSink`: where a collector's candles go — the durable outbox, drained into the hub in the background.

A collector calls the sink with each candle; candles are committed to the outbox file in small batches
(`flush_every`) and always on `flush`/`close`, and a background `OutboxPusher` drains the outbox into the
hub. `close` drains what it can within a timeout and leaves the rest on disk for the next start.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from types import TracebackType
from typing import Final

import platformdirs

from fxhub.hub.client.outbox import Outbox, OutboxPusher, PusherStats
from fxhub.hub.client.sync import HubClient
from fxhub.model import Candle

__all__ = ["FLUSH_EVERY_CANDLES", "HubSink", "default_outbox_path"]

logger = logging.getLogger(__name__)

FLUSH_EVERY_CANDLES: Final = 200


def default_outbox_path(collector: str) -> Path:
    """The outbox file of a collector (`databento`, `ig`) in the user's data directory."""
    return Path(platformdirs.user_data_dir("fxhub")) / f"outbox-{collector}.sqlite3"


class HubSink:
    """Candles in, hub out, nothing lost in between."""

    def __init__(
        self, outbox_path: Path, client: HubClient, *, flush_every: int = FLUSH_EVERY_CANDLES
    ) -> None:
        self.outbox = Outbox(outbox_path)
        self.pusher = OutboxPusher(self.outbox, client)
        self._flush_every = flush_every
        self._buffer: list[Candle] = []
        self._lock = threading.Lock()
        self.queued = 0
        self.left: int | None = None  # candles still in the outbox after `close`
        self.pusher.start()

    def __call__(self, candle: Candle) -> None:
        with self._lock:
            self._buffer.append(candle)
            full = len(self._buffer) >= self._flush_every
        if full:
            self.flush()

    def flush(self) -> None:
        """Commit buffered candles to the outbox file."""
        with self._lock:
            batch, self._buffer = self._buffer, []
        if batch:
            self.queued += self.outbox.put(batch)

    @property
    def stats(self) -> PusherStats:
        return self.pusher.stats

    def close(self, drain_timeout_s: float = 30.0) -> int:
        """Flush, drain into the hub for up to `drain_timeout_s`; returns candles left in the outbox."""
        self.flush()
        try:
            left = self.pusher.stop(drain_timeout_s)
        finally:
            self.outbox.close()
        self.left = left
        if left:
            logger.warning(
                "%d candles stay in the outbox %s until the hub is reachable", left, self.outbox.path
            )
        return left

    def __enter__(self) -> HubSink:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
