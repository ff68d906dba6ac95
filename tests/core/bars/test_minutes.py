"""`summarize_minutes`: per-minute trade and book statistics, plainly and for an inverted (6J) future."""

from __future__ import annotations

import functools
import math
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fxhub.core.bars import (
    BUY,
    NS_PER_MINUTE,
    SELL,
    BookColumns,
    TradeColumns,
    invert_quotes,
    summarize_minutes,
)
from fxhub.core.bars.minutes import _distinct, _first_last_high_low
from fxhub.core.orderflow import ofi_terms

T0 = int(datetime(2025, 11, 4, 14, 0, tzinfo=UTC).timestamp()) * 1_000_000_000
S = 1_000_000_000


def _trades(rows: list[tuple[int, float, int, int]]) -> TradeColumns:
    """(ts, price, size, aggressor) rows."""
    if not rows:
        return TradeColumns.empty()
    ts, price, size, side = zip(*rows, strict=True)
    return TradeColumns(
        np.array(ts, dtype=np.int64),
        np.array(price, dtype=np.float64),
        np.array(size, dtype=np.int64),
        np.array(side, dtype=np.int8),
    )


def _books(rows: list[tuple[int, int, int, int, int]], scale: float = 1e9) -> BookColumns:
    """Single-level states from (ts, bid key, bid size, ask key, ask size) rows; prices are key/scale."""
    if not rows:
        return BookColumns.empty()
    arr = np.array(rows, dtype=np.int64)
    return BookColumns(
        arr[:, 0].copy(),
        arr[:, 1:2].copy(),
        arr[:, 3:4].copy(),
        arr[:, 2:3].copy(),
        arr[:, 4:5].copy(),
        arr[:, 1] / scale,
        arr[:, 3] / scale,
    )


def test_trades_of_two_minutes_are_summed_per_minute() -> None:
    trades = _trades(
        [
            (T0 + 1 * S, 1.1600, 2, BUY),
            (T0 + 30 * S, 1.1605, 3, SELL),
            (T0 + 59 * S, 1.1595, 1, 0),
            (T0 + 60 * S, 1.1610, 4, BUY),  # the next minute starts exactly at 60 s
        ]
    )
    table, last = summarize_minutes(trades, BookColumns.empty(), None)
    assert table.minute.tolist() == [T0, T0 + NS_PER_MINUTE]
    assert table.volume.tolist() == [6.0, 4.0]
    assert table.buy_volume.tolist() == [2.0, 4.0]
    assert table.sell_volume.tolist() == [3.0, 0.0]  # the unknown-side trade is in neither
    assert table.trade_count.tolist() == [3, 1]
    assert table.pv[0] == pytest.approx(1.16 * 2 + 1.1605 * 3 + 1.1595 * 1, rel=1e-15)
    assert table.trade_ohlc[0].tolist() == [1.1600, 1.1605, 1.1595, 1.1595]
    assert table.trade_ohlc[1].tolist() == [1.1610] * 4
    assert np.isnan(table.mid_ohlc).all()
    assert np.isnan(table.ofi).all()
    assert table.book_updates.tolist() == [0, 0]
    assert last is None


def test_open_and_close_follow_arrival_order_not_time_sort() -> None:
    # Same timestamp for all: arrival order decides which is first and last.
    trades = _trades([(T0 + S, 3.0, 1, BUY), (T0 + S, 1.0, 1, BUY), (T0 + S, 2.0, 1, BUY)])
    table, _ = summarize_minutes(trades, BookColumns.empty(), None)
    assert table.trade_ohlc[0].tolist() == [3.0, 3.0, 1.0, 2.0]


def test_books_give_mid_ohlc_spreads_and_ofi_per_minute() -> None:
    books = _books(
        [
            (T0 + 1 * S, 100, 5, 102, 7),
            (T0 + 2 * S, 101, 3, 102, 7),  # +3
            (T0 + 61 * S, 101, 3, 104, 2),  # ask steps up, old ask 7 gone: +7
            (T0 + 62 * S, 100, 1, 104, 2),  # bid steps down: −3
        ]
    )
    table, last = summarize_minutes(_trades([]), books, None)
    assert table.book_updates.tolist() == [2, 2]
    assert table.ofi.tolist() == [3.0, 4.0]
    assert table.mid_ohlc[0] * 1e9 == pytest.approx([101.0, 101.5, 101.0, 101.5])
    assert table.spread_mean * 1e9 == pytest.approx([1.5, 3.5])
    assert table.spread_max * 1e9 == pytest.approx([2.0, 4.0])
    assert np.isnan(table.trade_ohlc).all()
    assert table.volume.tolist() == [0.0, 0.0]
    assert last is not None
    assert last.bid_key.tolist() == [100]
    assert last.ask_sz.tolist() == [2]


def test_first_state_ofi_is_measured_against_the_previous_state() -> None:
    before, previous = summarize_minutes(_trades([]), _books([(T0 - 5 * S, 100, 5, 102, 7)]), None)
    table, _ = summarize_minutes(_trades([]), _books([(T0 + S, 101, 3, 102, 7)]), previous)
    assert before.ofi.tolist() == [0.0]  # the very first state has nothing to be measured against
    assert table.ofi.tolist() == [3.0]  # bid stepped up from 100 × 5 to 101 × 3


def test_previous_state_is_returned_unchanged_when_no_book_arrives() -> None:
    _, previous = summarize_minutes(_trades([]), _books([(T0, 100, 5, 102, 7)]), None)
    table, last = summarize_minutes(_trades([(T0 + 70 * S, 1.0, 1, BUY)]), BookColumns.empty(), previous)
    assert last is previous
    assert math.isnan(table.ofi[0])


def test_one_sided_books_count_as_updates_but_not_as_mids_or_spreads() -> None:
    books = _books([(T0 + S, 100, 5, 102, 7), (T0 + 2 * S, 100, 5, 102, 7)])
    books = BookColumns(
        books.ts,
        books.bid_key,
        books.ask_key,
        books.bid_sz,
        books.ask_sz,
        np.array([100e-9, 100e-9]),
        np.array([102e-9, np.inf]),
    )
    table, _ = summarize_minutes(_trades([]), books, None)
    assert table.book_updates.tolist() == [2]
    assert table.spread_mean * 1e9 == pytest.approx([2.0])
    assert table.mid_ohlc[0] * 1e9 == pytest.approx([101.0] * 4)


def test_summaries_are_bit_identical_whether_minutes_are_summarised_alone_or_together() -> None:
    rng = np.random.default_rng(3)
    n = 400
    ts = np.sort(T0 + rng.integers(0, 5 * NS_PER_MINUTE, n))
    trades = TradeColumns(
        ts,
        1.16 + rng.integers(-20, 20, n) * 5e-5,
        rng.integers(1, 40, n),
        rng.choice([BUY, SELL, 0], n).astype(np.int8),
    )
    bid = 1_160_000 + rng.integers(-20, 20, n)
    books = BookColumns(
        ts,
        bid[:, None] * 50,
        (bid + rng.integers(1, 3, n))[:, None] * 50,
        rng.integers(1, 60, (n, 1)),
        rng.integers(1, 60, (n, 1)),
        bid * 5e-5,
        (bid + 1) * 5e-5,
    )
    together, _ = summarize_minutes(trades, books, None)
    previous = None
    for row, minute in enumerate(together.minute.tolist()):
        t_rows = np.flatnonzero(trades.ts // NS_PER_MINUTE * NS_PER_MINUTE == minute)
        b_rows = np.flatnonzero(books.ts // NS_PER_MINUTE * NS_PER_MINUTE == minute)
        alone, previous = summarize_minutes(trades.take(t_rows), books.take(b_rows), previous)
        for name in (
            "volume",
            "buy_volume",
            "sell_volume",
            "pv",
            "spread_mean",
            "spread_max",
            "ofi",
            "ofi_multi",
        ):
            assert getattr(alone, name)[0] == getattr(together, name)[row], (name, row)
        assert np.array_equal(alone.trade_ohlc[0], together.trade_ohlc[row])
        assert np.array_equal(alone.mid_ohlc[0], together.mid_ohlc[row])


# --------------------------------------------------------------------------- the inverted future (6J)

# 6J prices (USD per JPY), sizes and aggressors of one minute.
PRICES_6J = [0.0066600, 0.0067000, 0.0066000, 0.0066400]
SIZES = [1, 2, 3, 4]
SIDES_6J = [BUY, SELL, BUY, SELL]


def _inverted_minute() -> tuple[TradeColumns, BookColumns]:
    trades = _trades(
        [
            (T0 + (i + 1) * S, p, q, a)
            for i, (p, q, a) in enumerate(zip(PRICES_6J, SIZES, SIDES_6J, strict=True))
        ]
    )
    return invert_quotes(trades, BookColumns.empty())


def test_inverted_minute_swaps_high_and_low() -> None:
    table, _ = summarize_minutes(*_inverted_minute(), None)
    open_, high, low, close = table.trade_ohlc[0].tolist()
    assert open_ == 1 / 0.00666
    assert high == 1 / 0.0066  # the future's low
    assert low == 1 / 0.0067  # the future's high
    assert close == 1 / 0.00664


def test_inverted_vwap_is_the_size_weighted_mean_of_reciprocals_not_the_reciprocal_of_vwap() -> None:
    table, _ = summarize_minutes(*_inverted_minute(), None)
    vwap = table.pv[0] / table.volume[0]
    expected = sum(q / p for p, q in zip(PRICES_6J, SIZES, strict=True)) / sum(SIZES)
    reciprocal_of_vwap = sum(SIZES) / sum(q * p for p, q in zip(PRICES_6J, SIZES, strict=True))
    assert vwap == pytest.approx(expected, rel=1e-13)
    assert abs(vwap - reciprocal_of_vwap) > 1e-3  # ~0.005 JPY apart here: the two must not be confused


def test_inverted_buy_volume_is_the_futures_sell_aggressor_volume() -> None:
    table, _ = summarize_minutes(*_inverted_minute(), None)
    futures_sell = sum(q for q, a in zip(SIZES, SIDES_6J, strict=True) if a == SELL)
    futures_buy = sum(q for q, a in zip(SIZES, SIDES_6J, strict=True) if a == BUY)
    assert table.buy_volume[0] == futures_sell == 6
    assert table.sell_volume[0] == futures_buy == 4


def test_inverted_minute_ofi_has_the_opposite_sign_of_the_future() -> None:
    books = _books(
        [
            (T0 + 1 * S, 6_685_000, 5, 6_685_500, 7),
            (T0 + 2 * S, 6_685_500, 9, 6_686_000, 7),  # the yen future's bid steps up: +9 +7
            (T0 + 3 * S, 6_685_500, 9, 6_686_000, 2),  # its offer shrinks by 5: +5
        ]
    )
    future, _ = summarize_minutes(_trades([]), books, None)
    _, inverted_books = invert_quotes(TradeColumns.empty(), books)
    pair, _ = summarize_minutes(_trades([]), inverted_books, None)
    assert future.ofi.tolist() == [21.0]
    assert pair.ofi.tolist() == [-21.0]
    assert pair.ofi_multi.tolist() == [-future.ofi_multi[0]]
    assert np.array_equal(ofi_terms(inverted_books, None), -ofi_terms(books, None))


# --------------------------------------------------------------------------- grouping fast path


@given(
    # Prices: positive (a Candle refuses any other), with ties. Signed zeros are left out: which of two
    # equal zeros a vectorised maximum keeps is not defined, and no price is ever zero.
    st.lists(st.tuples(st.integers(0, 5), st.sampled_from([1.5, 1.25, 2.0, 1.75, 1e-9, 1e9])), max_size=40),
    st.booleans(),
)
def test_grouped_ohlc_equals_a_row_by_row_reference_whether_or_not_the_groups_are_in_order(
    rows: list[tuple[int, float]], in_order: bool
) -> None:
    if in_order:
        rows = sorted(rows, key=lambda row: row[0])  # stable: arrival order kept within a group
    index = np.array([g for g, _ in rows], dtype=np.intp)
    values = np.array([v for _, v in rows], dtype=np.float64)
    out = _first_last_high_low(index, values, 6)
    for group in range(6):
        seen = [v for g, v in rows if g == group]
        # numpy's maximum and minimum, one row after another (they keep the later of two equal zeros)
        high = functools.reduce(lambda a, b: float(np.maximum(a, b)), seen, -math.inf)
        low = functools.reduce(lambda a, b: float(np.minimum(a, b)), seen, math.inf)
        expected = [seen[0], high, low, seen[-1]] if seen else [math.nan] * 4
        # repr tells -0.0 from 0.0 and compares NaN: the figures must be the same bits.
        assert [repr(v) for v in out[group].tolist()] == [repr(v) for v in expected]
    assert np.array_equal(_distinct(index.astype(np.int64)), np.unique(index))
