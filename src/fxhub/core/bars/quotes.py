"""Minute bars from spot quotes (IG): mid OHLC, and a volume that is only the count of quote updates.

Same minute rules as the exchange bars: [t, t + 60 s) on the vendor's update time, labelled t; a minute is
emitted when a quote of a later minute arrives, or when `advance` passes its end plus the grace; an
open-market minute without quotes gets a candle flat at the last mid with volume 0 (no updates is a
fact worth recording for a tick-volume series); a closed-market minute gets none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from fxhub.core.bars.empty import EmptyMinutes
from fxhub.core.bars.spec import NS_PER_MINUTE, BarSpec
from fxhub.model import Candle, PriceBasis, Quote, Source, VolumeType

__all__ = ["QuoteBarBuilder", "TickCandles"]

CandleHandler = Callable[[Candle], None]
MarketOpen = Callable[[int], bool]


@dataclass(slots=True)
class _Minute:
    start_ns: int
    open: float
    high: float
    low: float
    close: float
    updates: int = 0
    spread_sum: float = 0.0
    spread_max: float = 0.0


class TickCandles:
    """What every tick-volume bar builder shares: its pair, its rules, and how a minute becomes a candle."""

    def __init__(
        self,
        symbol: str,
        pip_size: float,
        spec: BarSpec,
        handler: CandleHandler,
        market_open: MarketOpen,
        *,
        instrument: str | None = None,
    ) -> None:
        self.symbol = symbol
        self.pip_size = pip_size
        self.spec = spec
        self.instrument = instrument
        self._handler = handler
        self._market_open = market_open
        self._empty = EmptyMinutes(spec, market_open)
        self.late_quotes = 0
        self.candles_emitted = 0
        self._start()

    def _start(self) -> None:
        """Set up the builder's own state (called at the end of `__init__`)."""

    def _emit_candle(
        self,
        start_ns: int,
        ohlc: tuple[float, float, float, float],
        updates: int,
        avg_spread: float | None,
        max_spread: float | None,
    ) -> None:
        open_, high, low, close = ohlc
        candle = Candle(
            symbol=self.symbol,
            timestamp=datetime.fromtimestamp(start_ns // 1_000_000_000, UTC),
            open=open_,
            high=high,
            low=low,
            close=close,
            volume=float(updates),
            source=Source.IG,
            volume_type=VolumeType.TICK,
            quote_count=updates,
            avg_spread_pips=avg_spread,
            max_spread_pips=max_spread,
            price_basis=PriceBasis.SPOT,
            instrument=self.instrument,
        )
        self.candles_emitted += 1
        self._handler(candle)


class QuoteBarBuilder(TickCandles):
    """One pair's tick-volume candles; feed quotes in time order."""

    def _start(self) -> None:
        self._minute: _Minute | None = None

    def on_quote(self, quote: Quote) -> None:
        start = quote.ts_event // NS_PER_MINUTE * NS_PER_MINUTE
        last_emitted = self._empty.last_emitted
        if last_emitted is not None and start <= last_emitted:
            self.late_quotes += 1  # its minute is already out
            return
        mid = quote.mid
        spread = quote.spread / self.pip_size
        current = self._minute
        if current is not None and start < current.start_ns:
            self.late_quotes += 1  # a minute before the open one: it can no longer be built whole
            return
        if current is not None and start > current.start_ns:
            self._close()
            current = None
        if current is None:
            self._fill_empty(start)
            current = self._minute = _Minute(start, mid, mid, mid, mid)
        current.high = max(current.high, mid)
        current.low = min(current.low, mid)
        current.close = mid
        current.updates += 1
        current.spread_sum += spread
        current.spread_max = max(current.spread_max, spread)

    def advance(self, now_ns: int) -> None:
        """Quotes paused at `now_ns`: close what the grace allows and fill empty open minutes."""
        horizon = now_ns - self.spec.grace_ns
        if self._minute is not None and self._minute.start_ns + NS_PER_MINUTE <= horizon:
            self._close()
        self._fill_empty(horizon // NS_PER_MINUTE * NS_PER_MINUTE)

    def flush(self) -> None:
        if self._minute is not None:
            self._close()

    def _close(self) -> None:
        minute, self._minute = self._minute, None
        assert minute is not None
        if self._market_open(minute.start_ns):
            self._emit(minute.start_ns, (minute.open, minute.high, minute.low, minute.close), minute)
        self._empty.record(minute.start_ns, minute.close)

    def _fill_empty(self, until_ns: int) -> None:
        for start, price in self._empty.fill_before(until_ns):
            self._emit(start, (price, price, price, price), None)

    def _emit(self, start_ns: int, ohlc: tuple[float, float, float, float], minute: _Minute | None) -> None:
        if minute is None:
            self._emit_candle(start_ns, ohlc, 0, None, None)
        else:
            avg = minute.spread_sum / minute.updates
            self._emit_candle(start_ns, ohlc, minute.updates, avg, minute.spread_max)
