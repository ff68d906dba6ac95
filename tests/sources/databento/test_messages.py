"""DBN record arrays → the core's trade and book columns (`messages.py`)."""

from __future__ import annotations

from pathlib import Path

import databento as db
import databento_dbn as dbn
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fxhub.core.bars import BUY, EMPTY_ASK, EMPTY_BID, SELL
from fxhub.sources.databento.messages import (
    F_LAST,
    UNDEF_PRICE,
    book_columns,
    book_levels,
    split_by_instrument,
    trade_columns,
)

MBP10 = np.dtype(dbn.MBP10Msg._dtypes)
MBP1 = np.dtype(dbn.MBP1Msg._dtypes)
TRADES = np.dtype(dbn.TradeMsg._dtypes)
T0 = 1_762_264_800_000_000_000  # 2025-11-04 14:00 UTC


def _records(dtype: np.dtype, n: int) -> np.ndarray:
    out = np.zeros(n, dtype=dtype)
    out["length"] = dtype.itemsize // 4
    out["ts_event"] = T0 + np.arange(n) * 1_000_000
    out["ts_recv"] = out["ts_event"]
    out["action"] = b"A"
    out["side"] = b"N"
    names = dtype.names or ()
    for name in names:  # every level starts empty, as DBN writes an unquoted level
        if name.startswith(("bid_px_", "ask_px_")):
            out[name] = UNDEF_PRICE
    return out


def test_book_levels_tells_the_schema_apart() -> None:
    assert book_levels(_records(MBP10, 1)) == 10
    assert book_levels(_records(MBP1, 1)) == 1
    assert book_levels(_records(TRADES, 1)) == 0
    assert MBP10.itemsize == 368
    assert TRADES.itemsize == 48


def test_trade_columns_keep_only_trade_actions_with_scaled_prices_and_aggressor_sides() -> None:
    records = _records(MBP10, 5)
    records["action"] = [b"A", b"T", b"T", b"C", b"T"]
    records["side"] = [b"B", b"B", b"A", b"A", b"N"]
    records["price"] = [1_160_000_000, 1_160_050_000, 1_159_950_000, 1, 1_160_100_000]
    records["size"] = [9, 2, 3, 9, 4]
    trades = trade_columns(records)
    assert trades.price.tolist() == [1.16005, 1.15995, 1.1601]
    assert trades.size.tolist() == [2, 3, 4]
    assert trades.aggressor.tolist() == [BUY, SELL, 0]
    assert trades.ts.tolist() == records["ts_event"][[1, 2, 4]].astype(np.int64).tolist()
    assert trades.ts.dtype == np.int64
    assert trades.size.dtype == np.int64


def test_trade_columns_of_a_trades_schema_array_take_every_row() -> None:
    records = _records(TRADES, 3)
    records["action"] = b"T"
    records["side"] = [b"A", b"B", b"A"]
    records["price"] = 5_528_750_000_000
    records["size"] = [1, 2, 3]
    trades = trade_columns(records)
    assert len(trades) == 3
    assert trades.price.tolist() == [5528.75] * 3
    assert trades.aggressor.tolist() == [SELL, BUY, SELL]


def test_book_columns_keep_complete_two_sided_states_only() -> None:
    records = _records(MBP1, 4)
    records["flags"] = [F_LAST, 0, F_LAST, F_LAST]  # row 1: mid-event, the book is not complete
    records["bid_px_00"] = [1_160_000_000, 1_160_000_000, UNDEF_PRICE, 1_160_050_000]  # row 2: no bid
    records["ask_px_00"] = [1_160_050_000, 1_160_050_000, 1_160_050_000, 1_160_100_000]
    records["bid_sz_00"] = [5, 6, 0, 7]
    records["ask_sz_00"] = [8, 8, 8, 9]
    books = book_columns(records, 1)
    assert books.ts.tolist() == records["ts_event"][[0, 3]].astype(np.int64).tolist()
    assert books.bid_key.tolist() == [[1_160_000_000], [1_160_050_000]]
    assert books.ask_key.tolist() == [[1_160_050_000], [1_160_100_000]]
    assert books.bid_sz.tolist() == [[5], [7]]
    assert books.ask_sz.tolist() == [[8], [9]]
    assert books.bid_top.tolist() == [1.16, 1.16005]
    assert books.ask_top.tolist() == [1.16005, 1.1601]


def test_book_columns_read_all_ten_levels_with_empty_deep_levels_at_the_sentinels() -> None:
    records = _records(MBP10, 1)
    records["flags"] = F_LAST
    for i in range(7):  # seven quoted levels a side, three empty
        records[f"bid_px_{i:02d}"] = 1_160_000_000 - i * 50_000
        records[f"ask_px_{i:02d}"] = 1_160_050_000 + i * 50_000
        records[f"bid_sz_{i:02d}"] = 10 + i
        records[f"ask_sz_{i:02d}"] = 20 + i
        records[f"bid_ct_{i:02d}"] = 99  # counts sit between sizes and the next level: must not leak
        records[f"ask_ct_{i:02d}"] = 98
    books = book_columns(records, 10)
    assert books.levels == 10
    assert books.bid_key[0].tolist() == [1_160_000_000 - i * 50_000 for i in range(7)] + [EMPTY_BID] * 3
    assert books.ask_key[0].tolist() == [1_160_050_000 + i * 50_000 for i in range(7)] + [EMPTY_ASK] * 3
    assert books.bid_sz[0].tolist() == [10 + i for i in range(7)] + [0] * 3
    assert books.ask_sz[0].tolist() == [20 + i for i in range(7)] + [0] * 3
    assert books.bid_key.dtype == np.int64


def test_book_columns_of_trades_are_empty() -> None:
    books = book_columns(_records(TRADES, 3), 0)
    assert len(books) == 0


def test_level_block_matches_the_named_fields_of_a_simulated_mbp10_file(sim_dir: Path) -> None:
    raw = db.DBNStore.from_file(sim_dir / "cme" / "6E.mbp-10.dbn.zst").to_ndarray()
    books = book_columns(raw, 10)
    complete = raw[
        ((raw["flags"] & F_LAST) != 0) & (raw["bid_px_00"] != UNDEF_PRICE) & (raw["ask_px_00"] != UNDEF_PRICE)
    ]
    assert len(books) == len(complete) > 1000
    for i in range(10):
        assert np.array_equal(books.bid_key[:, i], complete[f"bid_px_{i:02d}"]), i
        assert np.array_equal(books.ask_key[:, i], complete[f"ask_px_{i:02d}"]), i
        assert np.array_equal(books.bid_sz[:, i], complete[f"bid_sz_{i:02d}"]), i
        assert np.array_equal(books.ask_sz[:, i], complete[f"ask_sz_{i:02d}"]), i


def test_split_by_instrument_of_a_single_instrument_is_the_array_itself() -> None:
    records = _records(TRADES, 4)
    records["instrument_id"] = 7
    parts = split_by_instrument(records)
    assert list(parts) == [7]
    assert parts[7] is records


def test_split_by_instrument_gives_each_instrument_its_own_rows_when_interleaved() -> None:
    """Two contracts of one product arrive interleaved (a parent-symbol subscription does this)."""
    records = _records(TRADES, 6)
    records["instrument_id"] = [1, 2, 1, 2, 1, 2]
    records["size"] = [10, 50, 11, 51, 12, 52]
    parts = split_by_instrument(records)
    assert sorted(parts) == [1, 2]
    assert parts[1]["size"].tolist() == [10, 11, 12]
    assert parts[2]["size"].tolist() == [50, 51, 52]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=30))
def test_split_by_instrument_equals_a_loop_that_groups_rows_by_id_in_arrival_order(ids: list[int]) -> None:
    records = _records(TRADES, len(ids))
    records["instrument_id"] = ids
    records["sequence"] = np.arange(len(ids))
    expected: dict[int, list[int]] = {}
    for row, instrument_id in enumerate(ids):
        expected.setdefault(instrument_id, []).append(row)
    parts = split_by_instrument(records)
    assert {k: v["sequence"].tolist() for k, v in parts.items()} == expected


@pytest.mark.parametrize("levels", [1, 10])
def test_book_columns_top_prices_are_float_views_of_the_keys(levels: int) -> None:
    records = _records(MBP10 if levels == 10 else MBP1, 2)
    records["flags"] = F_LAST
    records["bid_px_00"] = [6_685_000, 6_685_500]
    records["ask_px_00"] = [6_685_500, 6_686_000]
    records["bid_sz_00"] = 1
    records["ask_sz_00"] = 1
    books = book_columns(records, levels)
    assert books.bid_top.tolist() == [0.006685, 0.0066855]
    assert books.ask_top.tolist() == [0.0066855, 0.006686]
