"""`CandleRows`: the column checks pass a row only when `Candle`'s own checks would, and then the trusted
candle is the validated one."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fxhub.core.bars import NS_PER_MINUTE
from fxhub.core.bars.candle_rows import CHECKED_MIN_ROWS, CandleRows
from fxhub.core.bars.minutes import MinuteTable
from fxhub.errors import ValidationError
from fxhub.model import Candle, PriceBasis, Source, VolumeType

T0 = int(datetime(2025, 11, 4, 14, 0, tzinfo=UTC).timestamp()) * 1_000_000_000
PIP = 0.0001

# A valid row's 16 figures in `MinuteTable` order: volume, buy, sell, pv, trade OHLC, mid OHLC,
# spread mean and max, OFI, multi-level OFI.
GOOD = [1.0, 0.5, 0.5, 1.16, 1.16, 1.17, 1.15, 1.165, 1.16, 1.17, 1.15, 1.16, 1e-4, 2e-4, 3.0, 0.5]
# Plain values and the edges the constructor refuses: zero, negative, NaN, infinite.
figures = st.sampled_from([1.16, 1.1601, 1.1599, 2.0, 0.0, -1.0, -0.0, math.nan, math.inf, 1e-12])
counts = st.integers(0, 5)
minutes = st.sampled_from([T0, T0, T0 + NS_PER_MINUTE, -NS_PER_MINUTE, T0 + 1, 10**19 // 2])


@st.composite
def row(draw: st.DrawFn) -> tuple[int, list[float], int, int]:
    """A valid row with up to three figures replaced, so each rule is met alone and in combination."""
    values = list(GOOD)
    for _ in range(draw(st.integers(0, 3))):
        values[draw(st.integers(0, len(GOOD) - 1))] = draw(figures)
    return draw(minutes), values, draw(counts), draw(counts)


def _table(rows: list[tuple[int, list[float], int, int]]) -> MinuteTable:
    """Rows of (minute, 16 figures, trade count, book updates): figures in `MinuteTable` field order."""
    f = np.array([r[1] for r in rows], dtype=np.float64)
    return MinuteTable(
        np.array([r[0] for r in rows], dtype=np.int64),
        volume=f[:, 0],
        buy_volume=f[:, 1],
        sell_volume=f[:, 2],
        trade_count=np.array([r[2] for r in rows], dtype=np.int64),
        pv=f[:, 3],
        trade_ohlc=f[:, 4:8],
        mid_ohlc=f[:, 8:12],
        book_updates=np.array([r[3] for r in rows], dtype=np.int64),
        spread_mean=f[:, 12],
        spread_max=f[:, 13],
        ofi=f[:, 14],
        ofi_multi=f[:, 15],
    )


def _fields(rows: CandleRows, row: int, ohlc: list[float]) -> dict[str, object]:
    """The builder's candle fields for one row (see `MinuteBarBuilder._candle`)."""
    minute = rows.minute[row]
    return rows.fields[row] | {
        "symbol": "EUR_USD",
        "timestamp": datetime.fromtimestamp(minute // 1_000_000_000, UTC),
        "open": ohlc[0],
        "high": ohlc[1],
        "low": ohlc[2],
        "close": ohlc[3],
        "source": Source.DATABENTO,
        "volume_type": VolumeType.REAL,
        "price_basis": PriceBasis.FUTURES,
        "instrument": "6EZ5",
    }


@settings(max_examples=400)
@given(st.lists(row(), min_size=CHECKED_MIN_ROWS, max_size=8))
def test_a_row_passes_the_column_checks_only_when_the_constructor_accepts_it_and_then_builds_the_same_candle(
    table_rows: list[tuple[int, list[float], int, int]],
) -> None:
    rows = CandleRows.of(_table(table_rows), PIP)
    for row in range(len(table_rows)):
        for ohlc, ok in ((rows.trade_ohlc[row], rows.trade_ok[row]), (rows.mid_ohlc[row], rows.mid_ok[row])):
            fields = _fields(rows, row, ohlc)
            try:
                validated = Candle(**fields)  # type: ignore[arg-type]
            except (ValidationError, OverflowError, ValueError, OSError):
                assert not ok, fields
                continue
            if ok:
                trusted = Candle._trusted(fields)
                assert trusted == validated
                assert repr(trusted) == repr(validated)  # the same bits (repr tells -0.0 from 0.0)


def test_a_plain_table_passes_every_row() -> None:
    rows = CandleRows.of(_table([(T0 + i * NS_PER_MINUTE, GOOD, 1, 1) for i in range(CHECKED_MIN_ROWS)]), PIP)
    assert all(rows.trade_ok)
    assert all(rows.mid_ok)


@pytest.mark.parametrize("count", range(1, CHECKED_MIN_ROWS))
def test_a_table_too_small_to_pay_for_the_column_checks_is_left_to_the_constructor(count: int) -> None:
    rows = CandleRows.of(_table([(T0 + i * NS_PER_MINUTE, GOOD, 1, 1) for i in range(count)]), PIP)
    assert not any(rows.trade_ok)
    assert not any(rows.mid_ok)
