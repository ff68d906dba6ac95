"""Minute bars from trades and book states."""

from fxhub.core.bars.builder import BarTarget, MinuteBarBuilder
from fxhub.core.bars.columns import (
    BUY,
    EMPTY_ASK,
    EMPTY_BID,
    SELL,
    BookColumns,
    BookState,
    TradeColumns,
    invert_quotes,
)
from fxhub.core.bars.minutes import MinuteTable, summarize_minutes
from fxhub.core.bars.quotes import QuoteBarBuilder
from fxhub.core.bars.spec import NS_PER_MINUTE, BarSpec

__all__ = [
    "BUY",
    "EMPTY_ASK",
    "EMPTY_BID",
    "NS_PER_MINUTE",
    "SELL",
    "BarSpec",
    "BarTarget",
    "BookColumns",
    "BookState",
    "MinuteBarBuilder",
    "MinuteTable",
    "QuoteBarBuilder",
    "TradeColumns",
    "invert_quotes",
    "summarize_minutes",
]
