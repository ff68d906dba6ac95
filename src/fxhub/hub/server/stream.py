"""Fan-out of pushed candles to live readers, where one slow reader never holds up the rest.

Each subscriber has its own bounded buffer. Publishing only appends to buffers and never waits: when a
buffer is full its oldest message is dropped and counted, and the reader's next message is
`{"type": "lagged", "dropped": n}` so it knows it missed some (and can catch up with a range read).
Everything here runs on the event loop's thread; nothing is thread-safe and nothing needs to be.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import deque
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from fxhub.errors import ValidationError
from fxhub.hub.server.schemas import SYMBOL_PATTERN
from fxhub.hub.store.base import CandleKey
from fxhub.model import Candle, Source

__all__ = ["Broadcaster", "StreamFilter", "Subscription", "candle_message", "lagged_message"]


def _dumps(message: object) -> str:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


def candle_message(candle: Candle, *, revised: bool) -> str:
    """The text frame announcing one inserted or revised candle."""
    return _dumps({"type": "candle", "candle": candle.to_dict(), "revised": revised})


def lagged_message(dropped: int) -> str:
    """The text frame telling a reader how many messages it missed."""
    return _dumps({"type": "lagged", "dropped": dropped})


@dataclass(frozen=True, slots=True)
class StreamFilter:
    """Which candles a reader wants; an empty set means all."""

    symbols: frozenset[str] = frozenset()
    sources: frozenset[Source] = frozenset()

    def matches(self, candle: Candle) -> bool:
        """Whether `candle` passes both filters."""
        return (not self.symbols or candle.symbol in self.symbols) and (
            not self.sources or candle.source in self.sources
        )

    @classmethod
    def parse(cls, symbols: str | None, sources: str | None) -> StreamFilter:
        """Read the comma-separated `symbols` and `sources` query values; raise `ValidationError`."""
        names = frozenset(s.strip() for s in (symbols or "").split(",") if s.strip())
        for name in sorted(names):
            if not re.fullmatch(SYMBOL_PATTERN, name):
                raise ValidationError(
                    "symbols", name, "must be upper-case like 'EUR_USD' (a pair) or 'ES'", where="stream"
                )
        wanted: set[Source] = set()
        for text in (s.strip() for s in (sources or "").split(",")):
            if not text:
                continue
            try:
                wanted.add(Source(text.upper()))
            except ValueError:
                allowed = ", ".join(member.value for member in Source)
                raise ValidationError("sources", text, f"must be among {allowed}", where="stream") from None
        return cls(names, frozenset(wanted))


@dataclass(eq=False, slots=True)
class Subscription:
    """One reader's bounded buffer of text frames."""

    filter: StreamFilter
    maxsize: int
    on_drop: Callable[[int], None] | None = None
    dropped_total: int = 0
    _buffer: deque[str] = field(default_factory=deque)
    _dropped: int = 0  # since the last `lagged` message
    _closed: bool = False
    _wakeup: asyncio.Event = field(default_factory=asyncio.Event)

    def offer(self, message: str) -> None:
        """Buffer `message`, dropping the oldest one when the buffer is full; never waits."""
        if self._closed:
            return
        if len(self._buffer) >= self.maxsize:
            self._buffer.popleft()
            self._dropped += 1
            self.dropped_total += 1
            if self.on_drop is not None:
                self.on_drop(1)
        self._buffer.append(message)
        self._wakeup.set()

    def pending(self) -> int:
        """Frames `next()` would return without waiting: the buffered messages, plus a `lagged` notice."""
        return len(self._buffer) + (1 if self._dropped else 0)

    async def next(self) -> str | None:
        """The next frame to send: a `lagged` notice first if messages were dropped; None once closed."""
        while True:
            if self._dropped:
                dropped, self._dropped = self._dropped, 0
                return lagged_message(dropped)
            if self._buffer:
                return self._buffer.popleft()
            if self._closed:
                return None
            self._wakeup.clear()
            await self._wakeup.wait()

    def close(self) -> None:
        """End the subscription: `next()` returns what is buffered, then None."""
        self._closed = True
        self._wakeup.set()


class Broadcaster:
    """Hands every published candle to each subscriber whose filter it matches."""

    def __init__(self, queue_size: int, *, on_drop: Callable[[int], None] | None = None) -> None:
        if queue_size < 1:
            raise ValueError(f"queue_size must be ≥ 1, was {queue_size}")
        self._queue_size = queue_size
        self._on_drop = on_drop
        self._subscribers: list[Subscription] = []
        self._closed = False

    def __len__(self) -> int:
        return len(self._subscribers)

    @contextmanager
    def subscribe(self, stream_filter: StreamFilter) -> Iterator[Subscription]:
        """A subscription for the duration of the `with` block."""
        subscription = Subscription(stream_filter, self._queue_size, self._on_drop)
        if self._closed:
            subscription.close()
        self._subscribers.append(subscription)
        try:
            yield subscription
        finally:
            self._subscribers.remove(subscription)
            subscription.close()

    def publish(self, candles: Sequence[Candle], revised_keys: Collection[CandleKey] = ()) -> int:
        """Offer each candle to the subscribers that want it; return how many frames were buffered.

        `revised_keys` marks the candles that replaced a stored one. Each frame is encoded once, and
        only if some subscriber wants it.
        """
        if not self._subscribers:
            return 0
        revised = set(revised_keys)
        buffered = 0
        for candle in candles:
            message: str | None = None
            for subscription in self._subscribers:
                if subscription.filter.matches(candle):
                    if message is None:
                        message = candle_message(candle, revised=candle.key in revised)
                    subscription.offer(message)
                    buffered += 1
        return buffered

    async def publish_paced(self, candles: Sequence[Candle], revised_keys: Collection[CandleKey] = ()) -> int:
        """`publish` in chunks of at most one queue, letting the readers run between chunks.

        A push larger than a queue would otherwise overflow even a reader that keeps up, since nothing
        is sent while `publish` runs. The pause is one trip through the event loop per chunk: it never
        waits for a reader.
        """
        revised = frozenset(revised_keys)
        buffered = 0
        for begin in range(0, len(candles), self._queue_size):
            if begin:
                await asyncio.sleep(0)
            buffered += self.publish(candles[begin : begin + self._queue_size], revised)
        return buffered

    def close(self) -> None:
        """Close every subscription (the hub is stopping); later subscriptions start closed."""
        self._closed = True
        for subscription in self._subscribers:
            subscription.close()
