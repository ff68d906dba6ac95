"""The one bar builder behind every Databento input path: live streams, replays and files.

Feed it time-ordered batches of one instrument's trades and book states (`add`), as large or small as
the source delivers them; tell it the time when the feed is quiet (`advance`). It emits each minute's
candle to the handler once a later minute's record arrives, or once the clock passes the minute's end
plus the grace; fills open-market minutes without records with zero-volume candles; and makes no candle
for a minute in which the market is closed.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, TypeVar

import numpy as np

from fxhub.core.bars.candle_rows import CandleRows, minute_in_range
from fxhub.core.bars.columns import BookColumns, BookState, TradeColumns, invert_quotes
from fxhub.core.bars.empty import EmptyMinutes
from fxhub.core.bars.minutes import MinuteTable, summarize_minutes
from fxhub.core.bars.spec import NS_PER_MINUTE, BarSpec
from fxhub.model import Candle, PriceBasis, Source, VolumeType

__all__ = ["BarTarget", "MinuteBarBuilder"]

logger = logging.getLogger(__name__)

CandleHandler = Callable[[Candle], None]
MarketOpen = Callable[[int], bool]  # minute start (ns) → is the market open in that minute

# The extras of a minute without records.
_NO_TRADES: Final[dict[str, object]] = {
    "volume": 0.0,
    "trade_count": 0,
    "buy_volume": 0.0,
    "sell_volume": 0.0,
    "quote_count": 0,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class BarTarget:
    """What the candles are of: the stored symbol, the contract, and how to read its prices."""

    symbol: str  # "EUR_USD", or a product root such as "ES" for non-FX futures
    instrument: str  # raw symbol of the contract, e.g. "6EZ5"
    pip_size: float  # spreads are reported in these units (a tick for non-FX futures)
    inverted: bool = False  # 6J: the pair is 1 / price


class MinuteBarBuilder:
    """Per-instrument minute bars; see the module docstring for the emission rules."""

    def __init__(
        self,
        target: BarTarget,
        spec: BarSpec,
        handler: CandleHandler,
        market_open: MarketOpen,
        *,
        levels: int = 10,
    ) -> None:
        self.target = target
        self.spec = spec
        self._handler = handler
        self._market_open = market_open
        self._levels = levels
        self._pending_minute: int | None = None
        self._pending: list[tuple[TradeColumns, BookColumns]] = []
        self._previous_book: BookState | None = None
        self._empty = EmptyMinutes(spec, market_open)
        self._constants_checked = False  # a candle of this builder passed `Candle`'s own checks
        self.candles_emitted = 0
        self.late_records = 0

    def add(self, trades: TradeColumns, books: BookColumns) -> None:
        """Take a time-ordered batch; every minute before the batch's last one is complete and emitted."""
        if self.target.inverted:
            trades, books = invert_quotes(trades, books)
        trades, books = self._drop_late(trades, books)
        if not len(trades) and not len(books):
            return
        last_ts = max(int(trades.ts.max(initial=-1)), int(books.ts.max(initial=-1)))
        last_minute = last_ts // NS_PER_MINUTE * NS_PER_MINUTE
        if self._pending_minute is not None:
            # Rows of the minute still open join it; a later row closes it.
            boundary = self._pending_minute + NS_PER_MINUTE
            (same_t, trades), (same_b, books) = _partition(trades, boundary), _partition(books, boundary)
            self._pending.append((same_t, same_b))
            if last_minute == self._pending_minute:
                return
            self._close_pending()
        (done_t, trades), (done_b, books) = _partition(trades, last_minute), _partition(books, last_minute)
        if len(done_t) or len(done_b):
            self._summarize(done_t, done_b)  # whole minutes straight from the batch, no copy
        self._fill_empty(last_minute)
        self._pending_minute = last_minute
        self._pending = [(trades, books)]

    def advance(self, now_ns: int) -> None:
        """The feed is quiet at `now_ns`: close what the grace allows and fill empty open minutes."""
        horizon = now_ns - self.spec.grace_ns  # minutes ending at or before this are final
        if self._pending_minute is not None and self._pending_minute + NS_PER_MINUTE <= horizon:
            self._close_pending()
            self._pending_minute = None
        self._fill_empty(horizon // NS_PER_MINUTE * NS_PER_MINUTE)

    def flush(self) -> None:
        """End of input: emit the minute still open."""
        if self._pending:
            self._close_pending()
        self._pending_minute = None

    def _drop_late(self, trades: TradeColumns, books: BookColumns) -> tuple[TradeColumns, BookColumns]:
        """Records of a minute already emitted cannot change it any more: count and drop them."""
        if self._empty.last_emitted is None:
            return trades, books
        floor = self._empty.last_emitted + NS_PER_MINUTE
        keep_t, keep_b = trades.ts >= floor, books.ts >= floor
        late = int((~keep_t).sum() + (~keep_b).sum())
        if late:
            self.late_records += late
            logger.warning("%s: dropped %d records of already emitted minutes", self.target.instrument, late)
            return trades.take(np.flatnonzero(keep_t)), books.take(np.flatnonzero(keep_b))
        return trades, books

    def _close_pending(self) -> None:
        parts = [p for p in self._pending if len(p[0]) or len(p[1])]
        self._pending = []
        if not parts:
            return
        if len(parts) == 1:
            self._summarize(*parts[0])
        else:
            self._summarize(
                TradeColumns.concatenate([t for t, _ in parts]),
                BookColumns.concatenate([b for _, b in parts]),
            )

    def _summarize(self, trades: TradeColumns, books: BookColumns) -> None:
        table, self._previous_book = summarize_minutes(trades, books, self._previous_book)
        self._emit_table(table)

    def _fill_empty(self, until_minute: int) -> None:
        """Flat zero-volume candles for the quiet open-market minutes before `until_minute`."""
        for minute, price in self._empty.fill_before(until_minute):
            # The price is an emitted candle's close, so only the minute's range is left to check.
            self._emit(self._candle(minute, [price] * 4, dict(_NO_TRADES), minute_in_range(minute)))

    def _emit_table(self, table: MinuteTable) -> None:
        rows = CandleRows.of(table, self.target.pip_size)
        for row, minute in enumerate(rows.minute):
            self._fill_empty(minute)
            candle = self._candle_from_row(rows, row) if self._market_open(minute) else None
            if candle is not None:
                self._emit(candle)
            self._empty.record(minute, None if candle is None else candle.close)

    def _candle_from_row(self, rows: CandleRows, row: int) -> Candle | None:
        trade_ohlc, mid_ohlc = rows.trade_ohlc[row], rows.mid_ohlc[row]
        has_trades, has_mid = not math.isnan(trade_ohlc[0]), not math.isnan(mid_ohlc[0])
        if not has_trades and not self.spec.emit_empty:
            return None
        if (self.spec.price == "mid" or not has_trades) and has_mid:
            ohlc, checked = mid_ohlc, rows.mid_ok[row]
        elif has_trades:
            ohlc, checked = trade_ohlc, rows.trade_ok[row]
        elif self._empty.last_close is not None:
            ohlc, checked = [self._empty.last_close] * 4, False  # rare: left to the full checks
        else:
            return None
        return self._candle(rows.minute[row], ohlc, rows.fields[row], checked)

    def _candle(self, minute: int, ohlc: list[float], fields: dict[str, object], checked: bool) -> Candle:
        """`checked`: the row passed `CandleRows`' column checks. Such a row skips the constructor's
        checks once a candle of this builder has passed them (symbol, instrument and the source tags
        are the same for all of its candles)."""
        fields.update(
            symbol=self.target.symbol,
            timestamp=datetime.fromtimestamp(minute // 1_000_000_000, UTC),
            open=ohlc[0],
            high=ohlc[1],
            low=ohlc[2],
            close=ohlc[3],
            source=Source.DATABENTO,
            volume_type=VolumeType.REAL,
            price_basis=PriceBasis.FUTURES,
            instrument=self.target.instrument,
        )
        if checked and self._constants_checked:
            return Candle._trusted(fields)
        candle = Candle(**fields)  # type: ignore[arg-type]
        self._constants_checked = True
        return candle

    def _emit(self, candle: Candle) -> None:
        self.candles_emitted += 1
        self._handler(candle)


_Columns = TypeVar("_Columns", TradeColumns, BookColumns)


def _partition(columns: _Columns, boundary_ns: int) -> tuple[_Columns, _Columns]:
    """Rows before `boundary_ns` and rows from it on, keeping arrival order (views when time-sorted)."""
    ts = columns.ts
    if len(ts) < 2 or bool((ts[1:] >= ts[:-1]).all()):
        cut = int(np.searchsorted(ts, boundary_ns, side="left"))
        return columns.take(slice(0, cut)), columns.take(slice(cut, None))
    before = ts < boundary_ns
    return columns.take(np.flatnonzero(before)), columns.take(np.flatnonzero(~before))
