"""The vectorised quote bars (`QuoteMinuteBuilder`) against the per-quote builder (`QuoteBarBuilder`).

The two must give the same candles, every field bit for bit, for any quotes cut into any chunks: the
per-quote builder is the reference, these tests only compare.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Sequence
from dataclasses import astuple
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fxhub.core.bars import NS_PER_MINUTE, BarSpec, QuoteBarBuilder
from fxhub.core.bars.quote_minutes import QuoteMinuteBuilder, merge_quote_chunks, summarize_quotes
from fxhub.model import Candle, Quote
from fxhub.sources.ig.replay import fx_minute_open

PIP = 0.0001
EPIC = "CS.D.EURUSD.MINI.IP"
# Monday 2025-11-03 14:00 UTC: spot FX is open.
BASE_NS = int(datetime(2025, 11, 3, 14, 0, tzinfo=UTC).timestamp()) * 1_000_000_000
# Friday 2025-11-07 21:55 UTC, five minutes before spot FX closes at 17:00 New York.
FRIDAY_NS = int(datetime(2025, 11, 7, 21, 55, tzinfo=UTC).timestamp()) * 1_000_000_000

Stream = list[tuple[int, float, float]]  # ts_ns, bid, ask


def bits(candle: Candle) -> tuple[object, ...]:
    """Every field; floats as their exact hex, so 0.1 + 0.2 and 0.3 differ."""
    return tuple(value.hex() if isinstance(value, float) else value for value in astuple(candle))


def per_quote(
    stream: Stream, spec: BarSpec, market_open: Callable[[int], bool], pip: float = PIP
) -> tuple[list[Candle], int]:
    candles: list[Candle] = []
    builder = QuoteBarBuilder("EUR_USD", pip, spec, candles.append, market_open, instrument=EPIC)
    for ts_ns, bid, ask in stream:
        builder.on_quote(Quote(symbol="EUR_USD", ts_event=ts_ns, bid=bid, ask=ask))
    builder.flush()
    return candles, builder.late_quotes


def vectorised(
    stream: Stream,
    cuts: Sequence[int],
    spec: BarSpec,
    market_open: Callable[[int], bool],
    pip: float = PIP,
) -> tuple[list[Candle], int]:
    candles: list[Candle] = []
    builder = QuoteMinuteBuilder("EUR_USD", pip, spec, candles.append, market_open, instrument=EPIC)
    ts = np.array([row[0] for row in stream], np.int64)
    bid = np.array([row[1] for row in stream], np.float64)
    ask = np.array([row[2] for row in stream], np.float64)
    edges = [0, *sorted(set(cuts)), len(stream)]
    for start, stop in itertools.pairwise(edges):
        builder.add(ts[start:stop], bid[start:stop], ask[start:stop])
    builder.flush()
    assert builder.quotes == len(stream)
    return candles, builder.late_quotes


def assert_same(
    stream: Stream, cuts: Sequence[int], spec: BarSpec, market_open: Callable[[int], bool]
) -> None:
    expected, expected_late = per_quote(stream, spec, market_open)
    got, late = vectorised(stream, cuts, spec, market_open)
    assert [bits(c) for c in got] == [bits(c) for c in expected]
    assert late == expected_late


def always_open(minute_ns: int) -> bool:
    return True


def closed_every_fifth_minute(minute_ns: int) -> bool:
    return (minute_ns // NS_PER_MINUTE) % 5 != 3


@st.composite
def streams(draw: st.DrawFn, *, late: bool) -> tuple[Stream, list[int]]:
    """Quotes over up to ~40 minutes with gaps, equal times and awkward spreads; and chunk cuts."""
    count = draw(st.integers(min_value=0, max_value=120))
    steps = draw(
        st.lists(
            st.one_of(
                st.just(0),  # several quotes in one millisecond
                st.integers(min_value=1, max_value=20 * 1_000_000_000),
                st.integers(min_value=NS_PER_MINUTE, max_value=25 * NS_PER_MINUTE),  # a gap
            ),
            min_size=count,
            max_size=count,
        )
    )
    start = draw(st.sampled_from([BASE_NS, FRIDAY_NS])) + draw(st.integers(0, NS_PER_MINUTE - 1))
    times = [start + sum(steps[: i + 1]) for i in range(count)]
    if late and count > 2:  # some quotes arrive after later ones: the builders drop them alike
        for index in draw(st.lists(st.integers(0, count - 1), max_size=5)):
            times[index] -= draw(st.integers(0, 3 * NS_PER_MINUTE))
    stream: Stream = []
    for ts_ns in times:
        bid = draw(st.floats(min_value=0.5, max_value=2.0, allow_nan=False, allow_infinity=False))
        spread = draw(st.sampled_from([0.0, 1e-5, 3e-5, 0.1 * PIP, 0.7 * PIP, 1.3e-4]))
        stream.append((ts_ns, bid, bid + spread))
    cuts = draw(st.lists(st.integers(0, count), max_size=8))
    return stream, cuts


SPECS = st.builds(BarSpec, max_fill_minutes=st.integers(0, 20), emit_empty=st.booleans(), grace_ns=st.just(0))
MARKETS = st.sampled_from([always_open, closed_every_fifth_minute, fx_minute_open])


@settings(max_examples=300, deadline=None)
@given(streams(late=False), SPECS, MARKETS)
def test_vectorised_candles_equal_per_quote_candles_for_any_chunking(
    drawn: tuple[Stream, list[int]], spec: BarSpec, market_open: Callable[[int], bool]
) -> None:
    stream, cuts = drawn
    assert_same(stream, cuts, spec, market_open)


@settings(max_examples=200, deadline=None)
@given(streams(late=True), SPECS, MARKETS)
def test_vectorised_drops_the_same_late_quotes_as_the_per_quote_builder(
    drawn: tuple[Stream, list[int]], spec: BarSpec, market_open: Callable[[int], bool]
) -> None:
    stream, cuts = drawn
    assert_same(stream, cuts, spec, market_open)


def test_minute_split_across_chunks_sums_its_spreads_in_arrival_order() -> None:
    # Spreads whose float sum depends on the grouping: (a + b) + c != a + (b + c).
    spreads = [0.1 * PIP, 0.2 * PIP, 0.3 * PIP]
    assert (spreads[0] + spreads[1]) + spreads[2] != spreads[0] + (spreads[1] + spreads[2])
    stream = [(BASE_NS + i * 1_000_000_000, 1.1, 1.1 + s) for i, s in enumerate(spreads)]
    stream.append((BASE_NS + NS_PER_MINUTE, 1.1, 1.1))
    for cuts in ([], [1], [2], [1, 2], [1, 2, 3]):
        assert_same(stream, cuts, BarSpec(), always_open)
    candles, _ = vectorised(stream, [1], BarSpec(), always_open)
    assert candles[0].quote_count == 3


def test_gap_longer_than_max_fill_minutes_is_a_hole_not_flat_candles() -> None:
    stream = [(BASE_NS, 1.1, 1.1001), (BASE_NS + 30 * NS_PER_MINUTE, 1.2, 1.2001)]
    candles, _ = vectorised(stream, [1], BarSpec(max_fill_minutes=15), always_open)
    volumes = [c.volume for c in candles]
    assert volumes == [1.0] + [0.0] * 15 + [1.0]
    assert all(c.close == pytest.approx(1.10005) for c in candles[1:16])
    assert_same(stream, [1], BarSpec(max_fill_minutes=15), always_open)


def test_closed_minute_with_quotes_gets_no_candle_but_sets_the_fill_price() -> None:
    # Friday 21:59 UTC is open, 22:00 closed (17:00 New York): quotes then make no candle.
    stream = [(FRIDAY_NS + 4 * NS_PER_MINUTE, 1.1, 1.1), (FRIDAY_NS + 5 * NS_PER_MINUTE, 1.3, 1.3)]
    candles, _ = vectorised(stream, [], BarSpec(), fx_minute_open)
    assert [c.timestamp.minute for c in candles] == [59]
    assert_same(stream, [], BarSpec(), fx_minute_open)
    assert_same(
        [*stream, (FRIDAY_NS + 7 * NS_PER_MINUTE, 1.2, 1.2)], [2], BarSpec(), closed_every_fifth_minute
    )


def test_summarize_quotes_gives_mid_ohlc_in_arrival_order_counts_and_pip_spreads() -> None:
    ts = np.array([BASE_NS + 5, BASE_NS + 1, BASE_NS + NS_PER_MINUTE], np.int64)  # times may go back inside
    bid = np.array([1.1000, 1.1010, 1.2000])
    ask = np.array([1.1002, 1.1011, 1.2000])
    table = summarize_quotes(ts, bid, ask, PIP)
    assert table.minute.tolist() == [BASE_NS, BASE_NS + NS_PER_MINUTE]
    assert table.count.tolist() == [2, 1]
    assert table.ohlc[0].tolist() == [
        (1.1 + 1.1002) / 2,
        (1.101 + 1.1011) / 2,
        (1.1 + 1.1002) / 2,
        (1.101 + 1.1011) / 2,
    ]
    assert table.spread_sum[0] == (1.1002 - 1.1) / PIP + (1.1011 - 1.101) / PIP
    assert table.spread_max.tolist()[1] == 0.0
    assert len(summarize_quotes(ts[:0], bid[:0], ask[:0], PIP)) == 0


def test_flush_without_quotes_emits_nothing_and_empty_chunks_are_harmless() -> None:
    candles, late = vectorised([], [0, 0], BarSpec(), always_open)
    assert (candles, late) == ([], 0)


# --- merging streams of one pair ---------------------------------------------------------------------------


@st.composite
def sorted_streams(draw: st.DrawFn) -> list[list[tuple[int, float]]]:
    files = draw(st.integers(1, 4))
    out = []
    for file in range(files):
        times = sorted(draw(st.lists(st.integers(0, 40), max_size=30)))  # many equal times across files
        out.append([(t, float(file * 1000 + i)) for i, t in enumerate(times)])
    return out


@settings(max_examples=300, deadline=None)
@given(sorted_streams(), st.data())
def test_merge_quote_chunks_orders_quotes_as_heapq_merge_does(
    files: list[list[tuple[int, float]]], data: st.DataObject
) -> None:
    expected = list(heapq.merge(*files, key=lambda row: row[0]))
    chunked = []
    for rows in files:
        cuts = sorted(data.draw(st.lists(st.integers(0, len(rows)), max_size=6)))
        edges = [0, *cuts, len(rows)]
        chunked.append(
            [
                (
                    np.array([t for t, _ in rows[a:b]], np.int64),
                    np.array([v for _, v in rows[a:b]]),
                    np.array([v + 0.5 for _, v in rows[a:b]]),
                )
                for a, b in itertools.pairwise(edges)
            ]
        )
    merged = list(merge_quote_chunks(chunked))
    got = [(int(t), float(v)) for ts, bid, _ in merged for t, v in zip(ts, bid, strict=True)]
    assert got == expected
    assert all(len(ts) for ts, _, _ in merged)
    assert all(((ask - bid) == 0.5).all() for _, bid, ask in merged)  # the columns move together
