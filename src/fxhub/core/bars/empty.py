"""Which minutes without any record still get a candle: the rule both bar builders share.

An open-market minute in which nothing arrived gets a flat candle at the last close with volume 0, as
long as the silence is short enough to be a quiet market: after `BarSpec.max_fill_minutes` consecutive
empty minutes the silence is treated as a hole in the data (a feed outage, a file that stops), and no
more candles are made up until records arrive again. A closed-market minute never gets a candle.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from fxhub.core.bars.spec import NS_PER_MINUTE, BarSpec

__all__ = ["EmptyMinutes"]


class EmptyMinutes:
    """Tracks the last emitted minute and close, and yields the empty minutes to fill."""

    def __init__(self, spec: BarSpec, market_open: Callable[[int], bool]) -> None:
        self._spec = spec
        self._market_open = market_open
        self.last_emitted: int | None = None  # minute start of the last minute dealt with
        self.last_close: float | None = None
        self._empty_run = 0  # empty minutes filled since the last minute with data

    def fill_before(self, until_minute: int) -> Iterator[tuple[int, float]]:
        """(minute, flat price) for each empty minute to fill before `until_minute`."""
        if self.last_emitted is None or self.last_close is None:
            return
        minute = self.last_emitted + NS_PER_MINUTE
        while minute < until_minute:
            fill = self._spec.emit_empty and self._empty_run < self._spec.max_fill_minutes
            if fill and self._market_open(minute):
                self._empty_run += 1
                yield minute, self.last_close
            self.last_emitted = minute
            minute += NS_PER_MINUTE

    def record(self, minute: int, close: float | None) -> None:
        """A minute with data was dealt with (`close` None when the market was closed then)."""
        self.last_emitted = minute
        if close is not None:
            self.last_close = close
        self._empty_run = 0
