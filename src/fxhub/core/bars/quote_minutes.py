"""Minute bars from spot quotes, vectorised: the twin of `QuoteBarBuilder` for tick files.

Feed one pair's quotes as numpy chunks in arrival order (`QuoteMinuteBuilder.add`), as large or small as
the reader delivers them, then `flush`. The candles are the ones `QuoteBarBuilder` makes from the same
quotes fed one by one — every field, bit for bit — because the arithmetic is the same:

- mids and spreads are the same IEEE operations, element by element (``(bid + ask) / 2``,
  ``(ask - bid) / pip``); highs, lows and maximum spreads are exact whatever the order;
- open and close are the first and last quote of the minute in arrival order;
- a minute's spread sum is added one quote at a time from 0.0 in arrival order (`np.bincount`), as the
  builder's running sum is; so a minute split across chunks is summarised only once it is whole: its
  rows are carried to the next chunk, never its partial sums;
- late quotes (of a minute before the open one, or of one already emitted) are counted and dropped;
- zero-volume and closed-market minutes follow `EmptyMinutes`, the rule every bar builder shares, and a
  closed minute's close still becomes the price later fills are flat at, as in `QuoteBarBuilder`.

Pure numpy, no I/O. Prices must be finite (the readers refuse anything else).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from fxhub.core.bars.quotes import TickCandles
from fxhub.core.bars.spec import NS_PER_MINUTE

__all__ = ["QuoteColumns", "QuoteMinuteBuilder", "QuoteMinutes", "merge_quote_chunks", "summarize_quotes"]

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
QuoteColumns = tuple[Ints, Floats, Floats]  # ts_ns, bid, ask: one pair's quotes in arrival order


@dataclass(frozen=True, slots=True)
class QuoteMinutes:
    """One row per minute that had quotes, in time order."""

    minute: Ints  # minute start, ns since the epoch
    ohlc: Floats  # shape (n, 4): mid open, high, low, close
    count: Ints  # quote updates
    spread_sum: Floats  # Σ spread in pips, added in arrival order
    spread_max: Floats  # max(0, spreads) in pips

    def __len__(self) -> int:
        return len(self.minute)


def summarize_quotes(ts_ns: Ints, bid: Floats, ask: Floats, pip_size: float) -> QuoteMinutes:
    """Per-minute figures of quotes whose minutes never go back (times may within a minute)."""
    minute = ts_ns // NS_PER_MINUTE * NS_PER_MINUTE
    n = len(minute)
    starts = np.flatnonzero(np.concatenate(([n > 0], minute[1:] != minute[:-1])))
    counts = np.diff(np.append(starts, n))
    mid = (bid + ask) / 2.0
    spread = (ask - bid) / pip_size
    ohlc = np.empty((len(starts), 4))
    if n:
        ohlc[:, 0] = mid[starts]
        ohlc[:, 1] = np.maximum.reduceat(mid, starts)
        ohlc[:, 2] = np.minimum.reduceat(mid, starts)
        ohlc[:, 3] = mid[starts + counts - 1]
    group = np.repeat(np.arange(len(starts)), counts)
    spread_sum = np.bincount(group, weights=spread, minlength=len(starts)).astype(np.float64, copy=False)
    spread_max = np.maximum(np.maximum.reduceat(spread, starts), 0.0) if n else np.empty(0)
    return QuoteMinutes(minute[starts], ohlc, counts.astype(np.int64), spread_sum, spread_max)


class QuoteMinuteBuilder(TickCandles):
    """One pair's tick-volume candles from chunks of quotes; see the module docstring."""

    def _start(self) -> None:
        self._pending_minute: int | None = None  # the minute still open, whose rows are carried
        self._pending: list[QuoteColumns] = []
        self.quotes = 0

    def add(self, ts_ns: Ints, bid: Floats, ask: Floats) -> None:
        """Take the next quotes in arrival order; every minute before the chunk's last one is emitted."""
        self.quotes += len(ts_ns)
        minute = ts_ns // NS_PER_MINUTE * NS_PER_MINUTE
        if self._pending_minute is not None:
            floor = self._pending_minute
        elif self._empty.last_emitted is not None:
            floor = self._empty.last_emitted + NS_PER_MINUTE
        else:
            floor = int(minute.min(initial=0))
        late = minute < np.maximum.accumulate(np.maximum(minute, floor))
        if late.any():
            self.late_quotes += int(late.sum())
            keep = np.flatnonzero(~late)
            ts_ns, bid, ask, minute = ts_ns[keep], bid[keep], ask[keep], minute[keep]
        if not len(minute):
            return
        last = int(minute[-1])
        if self._pending_minute is not None:
            cut = int(np.searchsorted(minute, self._pending_minute + NS_PER_MINUTE))
            self._pending.append((ts_ns[:cut], bid[:cut], ask[:cut]))
            if last == self._pending_minute:
                return
            self._close_pending()
            ts_ns, bid, ask, minute = ts_ns[cut:], bid[cut:], ask[cut:], minute[cut:]
        cut = int(np.searchsorted(minute, last))
        if cut:
            self._emit_minutes(summarize_quotes(ts_ns[:cut], bid[:cut], ask[:cut], self.pip_size))
        self._pending_minute = last
        self._pending = [(ts_ns[cut:], bid[cut:], ask[cut:])]

    def flush(self) -> None:
        """End of input: emit the minute still open."""
        if self._pending:
            self._close_pending()
        self._pending_minute = None

    def _close_pending(self) -> None:
        parts, self._pending = self._pending, []
        ts_ns, bid, ask = _concat(parts)
        self._emit_minutes(summarize_quotes(ts_ns, bid, ask, self.pip_size))

    def _emit_minutes(self, table: QuoteMinutes) -> None:
        ohlc = table.ohlc.tolist()
        for row, (start, count, spread_sum, spread_max) in enumerate(
            zip(
                table.minute.tolist(),
                table.count.tolist(),
                table.spread_sum.tolist(),
                table.spread_max.tolist(),
                strict=True,
            )
        ):
            for empty_start, price in self._empty.fill_before(start):
                self._emit_candle(empty_start, (price, price, price, price), 0, None, None)
            open_, high, low, close = ohlc[row]
            if self._market_open(start):
                self._emit_candle(start, (open_, high, low, close), count, spread_sum / count, spread_max)
            self._empty.record(start, close)


def merge_quote_chunks(streams: Sequence[Iterable[QuoteColumns]]) -> Iterator[QuoteColumns]:
    """Chunks of several time-ordered streams of one pair, merged in time order a chunk at a time.

    The quotes come out in `heapq.merge`'s order (a stable merge: at equal times the earlier stream's
    first). Each round hands out every buffered quote before the smallest last time buffered by a stream
    with more to come; the streams holding that time read on, so no later chunk can hold an earlier quote.
    """
    sources = [iter(stream) for stream in streams]
    if len(sources) == 1:
        yield from (chunk for chunk in sources[0] if len(chunk[0]))
        return
    buffers = [_next(source) for source in sources]
    more = [buffer is not None for buffer in buffers]
    while any(buffer is not None for buffer in buffers):
        tails = [int(b[0][-1]) for b, m in zip(buffers, more, strict=True) if b is not None and m]
        bound = min(tails, default=None)
        parts: list[QuoteColumns] = []
        for index, buffer in enumerate(buffers):
            if buffer is None:
                continue
            cut = len(buffer[0]) if bound is None else int(np.searchsorted(buffer[0], bound))
            head, rest = _split(buffer, cut)
            if cut:
                parts.append(head)
            if more[index] and (rest is None or int(rest[0][-1]) == bound):
                following = _next(sources[index])
                more[index] = following is not None
                if following is not None:
                    rest = following if rest is None else _concat([rest, following])
            buffers[index] = rest
        if parts:
            ts_ns, bid, ask = _concat(parts)
            order = np.argsort(ts_ns, kind="stable")
            yield ts_ns[order], bid[order], ask[order]


def _split(columns: QuoteColumns, cut: int) -> tuple[QuoteColumns, QuoteColumns | None]:
    ts_ns, bid, ask = columns
    rest = (ts_ns[cut:], bid[cut:], ask[cut:]) if cut < len(ts_ns) else None
    return (ts_ns[:cut], bid[:cut], ask[:cut]), rest


def _next(source: Iterator[QuoteColumns]) -> QuoteColumns | None:
    return next((chunk for chunk in source if len(chunk[0])), None)


def _concat(parts: Sequence[QuoteColumns]) -> QuoteColumns:
    if len(parts) == 1:
        return parts[0]
    ts_ns, bid, ask = (np.concatenate(column) for column in zip(*parts, strict=True))
    return ts_ns, bid, ask
