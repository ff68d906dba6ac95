"""`invert_quotes`: a reciprocal future (6J, USD per JPY) turned into the pair's quoting (USD_JPY)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from fxhub.core.bars import BUY, EMPTY_ASK, EMPTY_BID, SELL, BookColumns, TradeColumns, invert_quotes
from fxhub.core.orderflow import ofi_terms

SCALE = 1e9


def _trades(prices: list[float], sizes: list[int], sides: list[int]) -> TradeColumns:
    return TradeColumns(
        np.arange(len(prices), dtype=np.int64),
        np.array(prices, dtype=np.float64),
        np.array(sizes, dtype=np.int64),
        np.array(sides, dtype=np.int8),
    )


def _books(
    bid_key: list[list[int]], bid_sz: list[list[int]], ask_key: list[list[int]], ask_sz: list[list[int]]
) -> BookColumns:
    bk, ak = np.array(bid_key, dtype=np.int64), np.array(ask_key, dtype=np.int64)
    bid_top = np.where(bk[:, 0] == EMPTY_BID, -np.inf, bk[:, 0] / SCALE)
    ask_top = np.where(ak[:, 0] == EMPTY_ASK, np.inf, ak[:, 0] / SCALE)
    return BookColumns(
        np.arange(len(bk), dtype=np.int64),
        bk,
        ak,
        np.array(bid_sz, dtype=np.int64),
        np.array(ask_sz, dtype=np.int64),
        bid_top,
        ask_top,
    )


def test_inverted_trades_are_reciprocal_prices_with_the_aggressor_flipped() -> None:
    trades = _trades([0.0066850, 0.0066855], [3, 4], [BUY, SELL])
    inverted, _ = invert_quotes(trades, BookColumns.empty())
    assert inverted.price.tolist() == [1 / 0.0066850, 1 / 0.0066855]
    assert inverted.size.tolist() == [3, 4]
    # Buying the yen future sells dollars against yen: a USD_JPY sell, and vice versa.
    assert inverted.aggressor.tolist() == [SELL, BUY]
    assert inverted.ts.tolist() == trades.ts.tolist()


def test_inverted_trade_with_unknown_aggressor_stays_unknown() -> None:
    inverted, _ = invert_quotes(_trades([0.0066850], [1], [0]), BookColumns.empty())
    assert inverted.aggressor.tolist() == [0]


def test_inverted_book_swaps_sides_sizes_and_negates_keys() -> None:
    books = _books([[6_685_000, 6_684_500]], [[10, 20]], [[6_685_500, 6_686_000]], [[30, 40]])
    _, inverted = invert_quotes(TradeColumns.empty(), books)
    # The future's ask (USD per JPY) is the pair's bid (JPY per USD), with its size.
    assert inverted.bid_key.tolist() == [[-6_685_500, -6_686_000]]
    assert inverted.ask_key.tolist() == [[-6_685_000, -6_684_500]]
    assert inverted.bid_sz.tolist() == [[30, 40]]
    assert inverted.ask_sz.tolist() == [[10, 20]]
    assert inverted.bid_top.tolist() == [1 / 0.0066855]
    assert inverted.ask_top.tolist() == [1 / 0.006685]
    assert inverted.bid_top[0] < inverted.ask_top[0]
    # Negated keys order like the reciprocals: a better (higher) pair bid has a higher key.
    assert inverted.bid_key[0, 0] > inverted.bid_key[0, 1]
    assert inverted.ask_key[0, 0] < inverted.ask_key[0, 1]


def test_inverted_empty_levels_stay_empty_on_the_swapped_side() -> None:
    books = _books([[6_685_000, EMPTY_BID]], [[10, 0]], [[6_685_500, EMPTY_ASK]], [[30, 0]])
    _, inverted = invert_quotes(TradeColumns.empty(), books)
    assert inverted.bid_key[0, 1] == EMPTY_BID  # was the future's empty ask
    assert inverted.ask_key[0, 1] == EMPTY_ASK  # was the future's empty bid
    assert inverted.bid_sz[0, 1] == 0
    assert inverted.ask_sz[0, 1] == 0


def test_inverted_one_sided_top_maps_to_infinite_sentinels_without_warnings() -> None:
    books = _books([[EMPTY_BID]], [[0]], [[6_685_500]], [[30]])
    _, inverted = invert_quotes(TradeColumns.empty(), books)
    assert inverted.ask_top[0] == np.inf  # the future had no bid: the pair has no offer
    assert inverted.bid_top[0] == 1 / 0.0066855


def test_ofi_on_a_mirrored_book_has_the_opposite_sign_by_hand() -> None:
    # The yen future's bid steps up with 8 lots: buying yen, i.e. selling USD_JPY.
    books = _books([[6_685_000], [6_685_500]], [[5], [8]], [[6_686_000], [6_686_000]], [[7], [7]])
    _, inverted = invert_quotes(TradeColumns.empty(), books)
    assert ofi_terms(books, None)[1, 0] == 8
    assert ofi_terms(inverted, None)[1, 0] == -8


_level_keys = st.lists(st.integers(6_684_000, 6_688_000), min_size=2, max_size=2)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(6_680_000, 6_685_000),
            st.integers(1, 4),
            st.lists(st.integers(0, 50), min_size=4, max_size=4),
        ),
        min_size=1,
        max_size=10,
    ),
    st.booleans(),
)
def test_ofi_sign_flips_on_every_random_mirrored_book(
    rows: list[tuple[int, int, list[int]]], empty_deep_bid: bool
) -> None:
    step = 500
    bid_key = [[b, b - step if not empty_deep_bid else EMPTY_BID] for b, _, _ in rows]
    ask_key = [[b + s * step, b + (s + 1) * step] for b, s, _ in rows]
    bid_sz = [[sz[0], sz[1] if not empty_deep_bid else 0] for _, _, sz in rows]
    ask_sz = [[sz[2], sz[3]] for _, _, sz in rows]
    books = _books(bid_key, bid_sz, ask_key, ask_sz)
    _, inverted = invert_quotes(TradeColumns.empty(), books)
    previous = books.take(slice(0, 1)).last_state()
    _, inverted_first = invert_quotes(TradeColumns.empty(), books.take(slice(0, 1)))
    assert np.array_equal(ofi_terms(inverted, None), -ofi_terms(books, None))
    assert np.array_equal(ofi_terms(inverted, inverted_first.last_state()), -ofi_terms(books, previous))
