"""Quotes and trades as the sources hand them to the bar builders.

Times are integer nanoseconds since the Unix epoch (UTC) inside fxhub; prices are floats in the
instrument's own quoting (6J in USD per JPY until the core inverts it).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["AggressorSide", "Quote", "Trade"]


class AggressorSide(StrEnum):
    """Who crossed the spread: a buyer lifting the offer, a seller hitting the bid, or unknown."""

    BUY = "B"
    SELL = "A"
    NONE = "N"


@dataclass(frozen=True, slots=True, kw_only=True)
class Quote:
    """A two-sided spot quote (IG: BID, OFR, UTM)."""

    symbol: str
    ts_event: int  # ns since epoch, the vendor's update time
    bid: float
    ask: float

    @property
    def mid(self) -> float:
        return (self.bid + self.ask) / 2.0

    @property
    def spread(self) -> float:
        return self.ask - self.bid


@dataclass(frozen=True, slots=True, kw_only=True)
class Trade:
    """One exchange trade with its size and aggressor side."""

    instrument: str  # raw symbol, e.g. "6EZ5"
    ts_event: int  # ns since epoch, matching-engine time
    price: float
    size: int
    side: AggressorSide
