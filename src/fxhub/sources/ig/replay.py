"""Replaying recorded IG quotes (and imported vendor ticks) into tick-volume candles."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from fxhub.core.bars import BarSpec, QuoteBarBuilder
from fxhub.instruments import InstrumentTable, load_instruments
from fxhub.model import Candle, Quote
from fxhub.sessions import fx_is_open
from fxhub.sources.pacing import Pacer

__all__ = ["IgBars", "fx_minute_open", "replay_quotes"]

CandleHandler = Callable[[Candle], None]


def fx_minute_open(minute_ns: int) -> bool:
    """Is spot FX trading at the start of this minute (Sunday 17:00 to Friday 17:00 New York)."""
    return fx_is_open(datetime.fromtimestamp(minute_ns // 1_000_000_000, UTC))


@dataclass(slots=True)
class IgBars:
    """One `QuoteBarBuilder` per pair, created on the pair's first quote."""

    handler: CandleHandler
    spec: BarSpec = field(default_factory=BarSpec)
    table: InstrumentTable = field(default_factory=load_instruments)
    market_open: Callable[[int], bool] = fx_minute_open
    builders: dict[str, QuoteBarBuilder] = field(default_factory=dict)
    quotes: int = 0

    def on_quote(self, quote: Quote, *, epic: str | None = None) -> None:
        builder = self.builders.get(quote.symbol)
        if builder is None:
            instrument = self.table.get(quote.symbol)
            builder = QuoteBarBuilder(
                quote.symbol,
                instrument.pip_size,
                self.spec,
                self.handler,
                self.market_open,
                instrument=epic,
            )
            self.builders[quote.symbol] = builder
        self.quotes += 1
        builder.on_quote(quote)

    def advance(self, now_ns: int) -> None:
        for builder in self.builders.values():
            builder.advance(now_ns)

    def flush(self) -> None:
        for builder in self.builders.values():
            builder.flush()


def replay_quotes(
    quotes: Iterable[tuple[Quote, str | None]], bars: IgBars, *, pacer: Pacer | None = None
) -> int:
    """Feed (quote, epic) pairs in time order, as fast as possible or as the pacer allows."""
    count = 0
    for quote, epic in quotes:
        if pacer is not None:
            pacer.wait_until(quote.ts_event)
        bars.on_quote(quote, epic=epic)
        count += 1
    bars.flush()
    return count
