"""The inputs of the bar builders: trades and complete book states of one instrument, as numpy columns.

Vendor adapters fill these from their records (DBN, a live stream); the core never sees a vendor type.
An empty book level has the lowest possible bid key or the highest ask key and size 0, so order-flow
formulas read it as a level that emptied.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = [
    "BUY",
    "EMPTY_ASK",
    "EMPTY_BID",
    "SELL",
    "BookColumns",
    "BookState",
    "TradeColumns",
    "invert_quotes",
]

BUY: Final = 1  # aggressor bought (lifted the offer)
SELL: Final = -1  # aggressor sold (hit the bid)
EMPTY_ASK: Final = 2**63 - 1  # order key of an empty ask level (DBN's UNDEF_PRICE)
EMPTY_BID: Final = -EMPTY_ASK  # order key of an empty bid level; negating swaps the two

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Sizes = npt.NDArray[np.int32]  # book level sizes: int32 keeps order-flow arithmetic fast and exact


@dataclass(frozen=True, slots=True)
class TradeColumns:
    """Trades in arrival order: time (ns), price, size, aggressor (BUY, SELL or 0 when unknown)."""

    ts: Ints
    price: Floats
    size: Ints
    aggressor: npt.NDArray[np.int8]

    @classmethod
    def empty(cls) -> TradeColumns:
        return cls(np.empty(0, np.int64), np.empty(0), np.empty(0, np.int64), np.empty(0, np.int8))

    def __len__(self) -> int:
        return len(self.ts)

    def take(self, index: npt.NDArray[np.intp] | slice) -> TradeColumns:
        return TradeColumns(self.ts[index], self.price[index], self.size[index], self.aggressor[index])

    @classmethod
    def concatenate(cls, parts: list[TradeColumns]) -> TradeColumns:
        return cls(*(np.concatenate([getattr(p, name) for p in parts]) for name in cls.__slots__))


@dataclass(frozen=True, slots=True)
class BookColumns:
    """Complete book states (after F_LAST) in arrival order.

    Level prices are *order keys*: integers that order like the prices (fixed-point 1e-9 prices as the
    exchange sends them, negated for an inverted instrument), with empty levels at `EMPTY_BID` /
    `EMPTY_ASK`, so order flow needs no float arithmetic. Sizes are int32. The top of book is also
    kept as float prices in the stored symbol's quoting, for mids and spreads.
    """

    ts: Ints
    bid_key: Ints  # shape (n, levels)
    ask_key: Ints
    bid_sz: Sizes
    ask_sz: Sizes
    bid_top: Floats  # shape (n,)
    ask_top: Floats

    @classmethod
    def empty(cls, levels: int = 1) -> BookColumns:
        keys = np.empty((0, levels), np.int64)
        sizes = np.empty((0, levels), np.int32)
        return cls(np.empty(0, np.int64), keys, keys.copy(), sizes, sizes.copy(), np.empty(0), np.empty(0))

    def __len__(self) -> int:
        return len(self.ts)

    @property
    def levels(self) -> int:
        return int(self.bid_key.shape[1])

    def take(self, index: npt.NDArray[np.intp] | slice) -> BookColumns:
        return BookColumns(
            self.ts[index],
            self.bid_key[index],
            self.ask_key[index],
            self.bid_sz[index],
            self.ask_sz[index],
            self.bid_top[index],
            self.ask_top[index],
        )

    @classmethod
    def concatenate(cls, parts: list[BookColumns]) -> BookColumns:
        """One table of the parts' rows; empty parts (of any depth: a trades-only batch) drop out."""
        filled = [p for p in parts if len(p)] or parts[:1]
        return cls(*(np.concatenate([getattr(p, name) for p in filled]) for name in cls.__slots__))

    def last_state(self) -> BookState | None:
        if not len(self):
            return None
        return BookState(
            self.bid_key[-1].copy(), self.ask_key[-1].copy(), self.bid_sz[-1].copy(), self.ask_sz[-1].copy()
        )


@dataclass(frozen=True, slots=True)
class BookState:
    """One book state (order keys and sizes): what the next state's order flow is measured against."""

    bid_key: Ints
    ask_key: Ints
    bid_sz: Sizes
    ask_sz: Sizes


def invert_quotes(trades: TradeColumns, books: BookColumns) -> tuple[TradeColumns, BookColumns]:
    """Turn a reciprocal future (6J, USD per JPY) into the pair's quoting (USD_JPY = 1 / price).

    The future's ask becomes the pair's bid and vice versa, with their sizes; keys are negated, which
    orders them as their reciprocals would be. A trade that bought the future sold the pair, so the
    aggressor side flips. Order flow computed afterwards has the pair's sign.
    """
    inverted_trades = TradeColumns(trades.ts, 1.0 / trades.price, trades.size, -trades.aggressor)
    with np.errstate(divide="ignore"):
        bid_top = np.where(np.isfinite(books.ask_top), 1.0 / books.ask_top, -np.inf)
        ask_top = np.where(np.isfinite(books.bid_top), 1.0 / books.bid_top, np.inf)
    inverted_books = BookColumns(
        books.ts, -books.ask_key, -books.bid_key, books.ask_sz, books.bid_sz, bid_top, ask_top
    )
    return inverted_trades, inverted_books
