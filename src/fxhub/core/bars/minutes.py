"""Per-minute statistics of trades and book states, vectorised over any number of whole minutes.

Every float sum is taken with `np.bincount` (in arrival order, one minute at a time) and order-flow sums
are exact integers, so one minute's figures are the same bits whether it is summarised alone (streaming)
or among a million records (files): the two paths cannot drift apart.

Time-ordered input (the usual case) has each minute's rows side by side, so open, high, low and close are
read per contiguous run (`reduceat`) rather than scattered with `ufunc.at`; other input takes the general
path, which gives the same figures.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from fxhub.core.bars.columns import BUY, SELL, BookColumns, BookState, TradeColumns
from fxhub.core.bars.spec import NS_PER_MINUTE
from fxhub.core.orderflow import ofi_terms

__all__ = ["MinuteTable", "summarize_minutes"]

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class MinuteTable:
    """One row per minute that had a trade or a book state; NaN where the minute had none of a kind."""

    minute: Ints  # minute start, ns since epoch
    volume: Floats
    buy_volume: Floats
    sell_volume: Floats
    trade_count: Ints
    pv: Floats  # Σ price·size, for the trade VWAP
    trade_ohlc: Floats  # shape (n, 4)
    mid_ohlc: Floats  # shape (n, 4)
    book_updates: Ints
    spread_mean: Floats
    spread_max: Floats
    ofi: Floats  # best level, in contracts
    ofi_multi: Floats  # Σ over levels of level OFI / average depth per level

    def __len__(self) -> int:
        return len(self.minute)


def _run_starts(keys: npt.NDArray[np.intp] | Ints) -> npt.NDArray[np.intp] | None:
    """Where each run of equal keys starts, when the keys never decrease (time-ordered input); else None."""
    if len(keys) < 2:
        return np.zeros(len(keys), np.intp)
    following, preceding = keys[1:], keys[:-1]
    if (following < preceding).any():
        return None
    starts = np.flatnonzero(following != preceding)
    starts += 1
    return np.concatenate(([0], starts))


def _first_last_high_low(index: npt.NDArray[np.intp], values: Floats, n: int) -> Floats:
    """OHLC of `values` grouped by `index` (arrival order decides open and close)."""
    out = np.full((n, 4), np.nan)
    if not len(values):
        return out
    starts = _run_starts(index)
    if starts is not None:  # each group is one run: its first and last rows are the run's ends
        groups = index[starts]
        out[groups, 0] = values[starts]
        out[groups, 1] = np.maximum.reduceat(values, starts)
        out[groups, 2] = np.minimum.reduceat(values, starts)
        ends = np.empty_like(starts)
        ends[:-1] = starts[1:]
        ends[-1] = len(values)
        ends -= 1
        out[groups, 3] = values[ends]
        return out
    order = np.arange(len(values))
    first = np.full(n, len(values))
    last = np.full(n, -1)
    np.minimum.at(first, index, order)
    np.maximum.at(last, index, order)
    seen = last >= 0
    out[seen, 0] = values[first[seen]]
    out[seen, 3] = values[last[seen]]
    high = np.full(n, -np.inf)
    low = np.full(n, np.inf)
    np.maximum.at(high, index, values)
    np.minimum.at(low, index, values)
    out[seen, 1] = high[seen]
    out[seen, 2] = low[seen]
    return out


def _distinct(minutes: Ints) -> Ints:
    """The sorted distinct values; on time-ordered input the run starts instead of a sort."""
    starts = _run_starts(minutes)
    return np.unique(minutes) if starts is None else minutes[starts]


def _sum_by(index: npt.NDArray[np.intp], weights: Floats, minlength: int) -> Floats:
    """Per-group sums, added one by one in arrival order."""
    return np.bincount(index, weights=weights, minlength=minlength).astype(np.float64, copy=False)


def _level_sum(matrix: npt.NDArray[np.int32]) -> Floats:
    """Row sums over levels (exact: the terms are integers, summed in int64)."""
    # einsum: about 2.5x faster than `sum(axis=1)` over ten levels, and as exact.
    total: Floats = np.einsum("ij->i", matrix, dtype=np.int64).astype(np.float64)
    return total


def summarize_minutes(
    trades: TradeColumns, books: BookColumns, previous: BookState | None
) -> tuple[MinuteTable, BookState | None]:
    """Summarise whole minutes of one instrument; returns the table and the last book state seen."""
    trade_minute = trades.ts // NS_PER_MINUTE * NS_PER_MINUTE
    book_minute = books.ts // NS_PER_MINUTE * NS_PER_MINUTE
    minutes = np.union1d(_distinct(trade_minute), _distinct(book_minute)).astype(np.int64)
    n = len(minutes)
    ti = np.searchsorted(minutes, trade_minute)
    bi = np.searchsorted(minutes, book_minute)

    size = trades.size.astype(np.float64)
    volume = _sum_by(ti, size, minlength=n)
    buy_volume = _sum_by(ti, size * (trades.aggressor == BUY), minlength=n)
    sell_volume = _sum_by(ti, size * (trades.aggressor == SELL), minlength=n)
    pv = _sum_by(ti, trades.price * size, minlength=n)
    trade_count = np.bincount(ti, minlength=n).astype(np.int64)
    trade_ohlc = _first_last_high_low(ti, trades.price, n)

    bid, ask = books.bid_top, books.ask_top
    two_sided = np.isfinite(bid) & np.isfinite(ask)
    mid_ohlc = _first_last_high_low(bi[two_sided], ((bid + ask) / 2.0)[two_sided], n)
    spread = (ask - bid)[two_sided]
    quoted = np.bincount(bi[two_sided], minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        spread_mean = _sum_by(bi[two_sided], spread, minlength=n) / quoted
    spread_max = np.full(n, -np.inf)
    np.maximum.at(spread_max, bi[two_sided], spread)
    spread_max[quoted == 0] = np.nan

    book_updates = np.bincount(bi, minlength=n).astype(np.int64)
    terms = ofi_terms(books, previous)
    if len(books):
        ofi = _sum_by(bi, terms[:, 0].astype(np.float64), minlength=n)
        level_ofi = _sum_by(bi, _level_sum(terms), minlength=n)
        depth = _sum_by(bi, (_level_sum(books.bid_sz) + _level_sum(books.ask_sz)) / 2.0, minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            average_depth = depth / (book_updates * books.levels)
            ofi_multi = np.where(average_depth > 0, level_ofi / average_depth, np.nan)
    else:
        ofi = np.full(n, np.nan)
        ofi_multi = np.full(n, np.nan)
    ofi[book_updates == 0] = np.nan
    ofi_multi[book_updates == 0] = np.nan
    table = MinuteTable(
        minutes,
        volume,
        buy_volume,
        sell_volume,
        trade_count,
        pv,
        trade_ohlc,
        mid_ohlc,
        book_updates,
        spread_mean,
        spread_max,
        ofi,
        ofi_multi,
    )
    return table, books.last_state() or previous
