"""`MinuteBarBuilder` emission rules on an explicit test clock (no sleeps), and batching invariance."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fxhub.core.bars import (
    BUY,
    NS_PER_MINUTE,
    SELL,
    BarSpec,
    BarTarget,
    BookColumns,
    MinuteBarBuilder,
    TradeColumns,
)
from fxhub.errors import ValidationError
from fxhub.model import Candle, PriceBasis, Source, VolumeType

START = datetime(2025, 11, 4, 14, 0, tzinfo=UTC)
T0 = int(START.timestamp()) * 1_000_000_000
S = 1_000_000_000
GRACE = 2 * S
EUR = BarTarget(symbol="EUR_USD", instrument="6EZ5", pip_size=0.0001)
JPY = BarTarget(symbol="USD_JPY", instrument="6JZ5", pip_size=0.01, inverted=True)
TRADE_PRICES = BarSpec(price="trade", grace_ns=GRACE)


def _minute(i: int) -> datetime:
    return START + timedelta(minutes=i)


def _trades(*rows: tuple[int, float, int, int]) -> TradeColumns:
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


def _books(*rows: tuple[int, float, int, float, int], levels: int = 1) -> BookColumns:
    """States from (ts, bid, bid size, ask, ask size) rows; deeper levels sit one tick further out."""
    if not rows:
        return BookColumns.empty(levels)
    ts = np.array([r[0] for r in rows], dtype=np.int64)
    bid = np.array([r[1] for r in rows])
    ask = np.array([r[3] for r in rows])
    bid_keys = np.round(bid * 1e9).astype(np.int64)
    ask_keys = np.round(ask * 1e9).astype(np.int64)
    tick = 50_000
    return BookColumns(
        ts,
        np.stack([bid_keys - i * tick for i in range(levels)], axis=1),
        np.stack([ask_keys + i * tick for i in range(levels)], axis=1),
        np.array([[r[2]] * levels for r in rows], dtype=np.int64),
        np.array([[r[4]] * levels for r in rows], dtype=np.int64),
        bid,
        ask,
    )


class Recorder:
    """The candle handler: keeps what was emitted."""

    def __init__(self) -> None:
        self.candles: list[Candle] = []

    def __call__(self, candle: Candle) -> None:
        self.candles.append(candle)

    @property
    def times(self) -> list[datetime]:
        return [c.timestamp for c in self.candles]


def _always_open(_minute_ns: int) -> bool:
    return True


def _builder(
    target: BarTarget = EUR, spec: BarSpec = TRADE_PRICES, market_open=_always_open, levels: int = 1
) -> tuple[MinuteBarBuilder, Recorder]:
    recorder = Recorder()
    return MinuteBarBuilder(target, spec, recorder, market_open, levels=levels), recorder


def _trade(ts: int, price: float = 1.1600, size: int = 1, side: int = BUY) -> TradeColumns:
    return _trades((ts, price, size, side))


# --------------------------------------------------------------------------- emission on later records


def test_minute_is_emitted_when_a_record_of_a_later_minute_arrives() -> None:
    builder, out = _builder()
    builder.add(_trade(T0 + 10 * S, 1.1600, 2), BookColumns.empty())
    builder.add(_trade(T0 + 50 * S, 1.1610, 3, SELL), BookColumns.empty())
    assert out.candles == []
    builder.add(_trade(T0 + 60 * S + 1, 1.1605), BookColumns.empty())
    assert out.times == [_minute(0)]
    candle = out.candles[0]
    assert (candle.open, candle.high, candle.low, candle.close) == (1.16, 1.161, 1.16, 1.161)
    assert candle.volume == 5
    assert candle.buy_volume == 2
    assert candle.sell_volume == 3
    assert candle.trade_count == 2
    assert candle.vwap == pytest.approx((1.16 * 2 + 1.161 * 3) / 5, rel=1e-15)
    assert builder.candles_emitted == 1


def test_a_book_record_of_a_later_minute_also_closes_the_minute() -> None:
    builder, out = _builder()
    builder.add(_trade(T0 + 10 * S), BookColumns.empty())
    builder.add(TradeColumns.empty(), _books((T0 + 61 * S, 1.1600, 5, 1.1601, 5)))
    assert out.times == [_minute(0)]


def test_records_at_the_last_nanosecond_belong_to_the_minute() -> None:
    builder, out = _builder()
    builder.add(_trade(T0 + NS_PER_MINUTE - 1, size=7), BookColumns.empty())
    builder.add(_trade(T0 + NS_PER_MINUTE, size=1), BookColumns.empty())
    assert [c.volume for c in out.candles] == [7]


def test_a_batch_spanning_minutes_emits_all_but_its_last_minute() -> None:
    builder, out = _builder()
    builder.add(
        _trades((T0 + S, 1.16, 1, BUY), (T0 + 61 * S, 1.17, 2, BUY), (T0 + 121 * S, 1.18, 3, BUY)),
        BookColumns.empty(),
    )
    assert out.times == [_minute(0), _minute(1)]
    assert [c.volume for c in out.candles] == [1, 2]
    builder.flush()
    assert out.times == [_minute(0), _minute(1), _minute(2)]


# --------------------------------------------------------------------------- the clock and the grace


def test_advance_closes_a_quiet_minute_only_after_its_end_plus_the_grace() -> None:
    builder, out = _builder()
    builder.add(_trade(T0 + 10 * S), BookColumns.empty())
    builder.advance(T0 + 60 * S)
    builder.advance(T0 + 60 * S + GRACE - 1)
    assert out.candles == []
    builder.advance(T0 + 60 * S + GRACE)
    assert out.times == [_minute(0)]
    builder.advance(T0 + 60 * S + GRACE + 1)
    assert out.times == [_minute(0)]


def test_a_record_inside_the_grace_still_lands_in_its_minute() -> None:
    builder, out = _builder()
    builder.add(_trade(T0 + 10 * S, size=1), BookColumns.empty())
    builder.advance(T0 + 61 * S)  # end of minute 0 passed, grace not yet
    builder.add(_trade(T0 + 59 * S, size=4), BookColumns.empty())  # delayed record of minute 0
    builder.advance(T0 + 62 * S)
    assert [c.volume for c in out.candles] == [5]
    assert builder.late_records == 0


def test_advance_with_a_custom_grace() -> None:
    builder, out = _builder(spec=BarSpec(price="trade", grace_ns=0))
    builder.add(_trade(T0 + 10 * S), BookColumns.empty())
    builder.advance(T0 + 60 * S - 1)
    assert out.candles == []
    builder.advance(T0 + 60 * S)
    assert out.times == [_minute(0)]


def test_advance_before_any_record_does_nothing() -> None:
    builder, out = _builder()
    builder.advance(T0 + 10 * NS_PER_MINUTE)
    builder.flush()
    assert out.candles == []


# --------------------------------------------------------------------------- empty and closed minutes


def test_open_minutes_without_records_get_zero_volume_candles_flat_at_the_last_close() -> None:
    builder, out = _builder()
    builder.add(_trades((T0 + S, 1.1600, 2, BUY), (T0 + 50 * S, 1.1620, 1, SELL)), BookColumns.empty())
    builder.add(_trade(T0 + 3 * NS_PER_MINUTE + S, 1.1700), BookColumns.empty())
    builder.flush()
    assert out.times == [_minute(0), _minute(1), _minute(2), _minute(3)]
    assert [c.volume for c in out.candles] == [3, 0, 0, 1]
    for empty in out.candles[1:3]:
        assert (empty.open, empty.high, empty.low, empty.close) == (1.162,) * 4
        assert empty.volume == 0
        assert empty.trade_count == 0
        assert empty.buy_volume == 0
        assert empty.sell_volume == 0
        assert empty.vwap is None
        assert empty.source is Source.DATABENTO


def test_empty_minutes_are_emitted_when_a_later_minutes_record_arrives() -> None:
    """A record of minute 3 proves minutes 1 and 2 are over: their zero-volume candles are due now,
    like any minute's candle once a later minute's record arrives (module docstring of builder.py)."""
    builder, out = _builder()
    builder.add(_trade(T0 + S, 1.1620), BookColumns.empty())
    builder.add(_trade(T0 + 3 * NS_PER_MINUTE + S, 1.1700), BookColumns.empty())
    assert out.times == [_minute(0), _minute(1), _minute(2)]


def test_advance_fills_quiet_open_minutes_up_to_the_clock_minus_grace() -> None:
    builder, out = _builder()
    builder.add(_trade(T0 + S, 1.1650), BookColumns.empty())
    builder.advance(T0 + 4 * NS_PER_MINUTE + GRACE - 1)  # minute 3 not yet final
    assert out.times == [_minute(0), _minute(1), _minute(2)]
    builder.advance(T0 + 4 * NS_PER_MINUTE + GRACE)
    assert out.times == [_minute(0), _minute(1), _minute(2), _minute(3)]
    assert [c.volume for c in out.candles] == [1, 0, 0, 0]
    assert {c.close for c in out.candles} == {1.165}
    # Idempotent: the same clock again emits nothing new.
    builder.advance(T0 + 4 * NS_PER_MINUTE + GRACE)
    assert len(out.candles) == 4


def test_no_zero_volume_candles_before_the_first_candle() -> None:
    builder, out = _builder()
    builder.add(_trade(T0 + 5 * NS_PER_MINUTE + S), BookColumns.empty())
    builder.flush()
    assert out.times == [_minute(5)]


def test_no_candle_for_a_minute_in_which_the_market_is_closed() -> None:
    closed = {T0 + 2 * NS_PER_MINUTE, T0 + 3 * NS_PER_MINUTE}
    builder, out = _builder(market_open=lambda minute_ns: minute_ns not in closed)
    builder.add(_trade(T0 + S, 1.16), BookColumns.empty())
    builder.add(_trade(T0 + 2 * NS_PER_MINUTE + S, 1.20), BookColumns.empty())  # a stray record while closed
    builder.add(_trade(T0 + 5 * NS_PER_MINUTE + S, 1.17), BookColumns.empty())
    builder.flush()
    assert out.times == [_minute(0), _minute(1), _minute(4), _minute(5)]
    assert [c.volume for c in out.candles] == [1, 0, 0, 1]
    # The zero-volume minute after the break is flat at the last close before it.
    assert out.candles[2].close == 1.16


def test_advance_fills_no_candles_in_closed_minutes() -> None:
    builder, out = _builder(market_open=lambda minute_ns: minute_ns < T0 + 2 * NS_PER_MINUTE)
    builder.add(_trade(T0 + S), BookColumns.empty())
    builder.advance(T0 + 10 * NS_PER_MINUTE)
    assert out.times == [_minute(0), _minute(1)]


def test_no_empty_candles_when_the_spec_says_so() -> None:
    builder, out = _builder(spec=BarSpec(price="trade", emit_empty=False))
    builder.add(_trade(T0 + S), BookColumns.empty())
    builder.add(TradeColumns.empty(), _books((T0 + 61 * S, 1.16, 5, 1.1601, 5)))  # quotes only
    builder.add(_trade(T0 + 4 * NS_PER_MINUTE + S), BookColumns.empty())
    builder.advance(T0 + 9 * NS_PER_MINUTE)
    assert out.times == [_minute(0), _minute(4)]


# --------------------------------------------------------------------------- late records and flush


def test_late_records_of_an_emitted_minute_are_counted_and_dropped() -> None:
    builder, out = _builder()
    builder.add(_trade(T0 + S, size=2), BookColumns.empty())
    builder.add(_trade(T0 + 61 * S, size=3), BookColumns.empty())
    assert [c.volume for c in out.candles] == [2]
    builder.add(
        _trades((T0 + 30 * S, 1.16, 100, BUY), (T0 + 62 * S, 1.16, 4, BUY)),
        _books((T0 + 31 * S, 1.16, 5, 1.1601, 5)),
    )
    assert builder.late_records == 2
    builder.flush()
    assert [c.volume for c in out.candles] == [2, 7]  # the late 100 lots changed nothing


def test_records_after_advance_closed_their_minute_are_late() -> None:
    builder, out = _builder()
    builder.add(_trade(T0 + S, size=2), BookColumns.empty())
    builder.advance(T0 + 60 * S + GRACE)
    builder.add(_trade(T0 + 59 * S, size=9), BookColumns.empty())
    builder.flush()
    assert builder.late_records == 1
    assert [c.volume for c in out.candles] == [2]


def test_flush_emits_the_open_minute_once() -> None:
    builder, out = _builder()
    builder.add(_trade(T0 + S, size=2), BookColumns.empty())
    builder.flush()
    builder.flush()
    assert out.times == [_minute(0)]
    assert out.candles[0].volume == 2


def test_flush_then_more_records_continue_with_later_minutes() -> None:
    builder, out = _builder()
    builder.add(_trade(T0 + S), BookColumns.empty())
    builder.flush()
    builder.add(_trade(T0 + 2 * NS_PER_MINUTE + S), BookColumns.empty())
    builder.flush()
    assert out.times == [_minute(0), _minute(1), _minute(2)]


# --------------------------------------------------------------------------- labels and prices


def test_candles_are_labelled_with_the_minute_start_in_utc_and_tagged_as_databento_futures() -> None:
    builder, out = _builder()
    builder.add(_trade(T0 + 59 * S + 999_999_999), BookColumns.empty())
    builder.flush()
    candle = out.candles[0]
    assert candle.timestamp == START
    assert candle.timestamp.tzinfo is UTC
    assert candle.symbol == "EUR_USD"
    assert candle.instrument == "6EZ5"
    assert candle.source is Source.DATABENTO
    assert candle.volume_type is VolumeType.REAL
    assert candle.price_basis is PriceBasis.FUTURES


def test_mid_spec_builds_ohlc_from_book_mids_and_volume_from_trades() -> None:
    builder, out = _builder(spec=BarSpec(price="mid"))
    builder.add(
        _trades((T0 + 2 * S, 1.1700, 3, BUY)),
        _books(
            (T0 + 1 * S, 1.1600, 5, 1.1602, 5),
            (T0 + 3 * S, 1.1610, 5, 1.1612, 5),
            (T0 + 4 * S, 1.1590, 5, 1.1592, 5),
            (T0 + 5 * S, 1.1600, 5, 1.1604, 5),
        ),
    )
    builder.flush()
    candle = out.candles[0]
    assert (candle.open, candle.high, candle.low, candle.close) == pytest.approx(
        (1.1601, 1.1611, 1.1591, 1.1602)
    )
    assert candle.volume == 3
    assert candle.quote_count == 4
    assert candle.avg_spread_pips == pytest.approx(2.5)
    assert candle.max_spread_pips == pytest.approx(4.0)


def test_trade_spec_falls_back_to_mids_for_a_minute_without_trades() -> None:
    builder, out = _builder()
    builder.add(TradeColumns.empty(), _books((T0 + S, 1.1600, 5, 1.1602, 5)))
    builder.flush()
    assert out.candles[0].close == pytest.approx(1.1601)
    assert out.candles[0].volume == 0


def test_inverted_target_candle_is_in_the_pairs_quoting() -> None:
    builder, out = _builder(target=JPY)
    prices = [0.0066600, 0.0067000, 0.0066000, 0.0066400]
    sizes = [1, 2, 3, 4]
    sides = [BUY, SELL, BUY, SELL]
    builder.add(
        _trades(
            *[
                (T0 + (i + 1) * S, p, q, a)
                for i, (p, q, a) in enumerate(zip(prices, sizes, sides, strict=True))
            ]
        ),
        BookColumns.empty(),
    )
    builder.flush()
    c = out.candles[0]
    assert c.symbol == "USD_JPY"
    assert c.instrument == "6JZ5"
    assert (c.open, c.high, c.low, c.close) == (1 / 0.00666, 1 / 0.0066, 1 / 0.0067, 1 / 0.00664)
    assert c.vwap == pytest.approx(sum(q / p for p, q in zip(prices, sizes, strict=True)) / 10, rel=1e-13)
    assert c.vwap != pytest.approx(10 / sum(q * p for p, q in zip(prices, sizes, strict=True)), rel=1e-6)
    assert c.buy_volume == 2 + 4  # the future's sell-aggressor volume
    assert c.sell_volume == 1 + 3


def test_inverted_target_ofi_is_the_negated_future_ofi() -> None:
    books = _books(
        (T0 + 1 * S, 0.0066850, 5, 0.0066855, 7),
        (T0 + 2 * S, 0.0066855, 9, 0.0066860, 7),
        (T0 + 3 * S, 0.0066855, 9, 0.0066860, 2),
        levels=2,
    )
    plain, plain_out = _builder(
        target=BarTarget(symbol="USD_JPY", instrument="6JZ5", pip_size=0.01), levels=2
    )
    inverted, inverted_out = _builder(target=JPY, levels=2)
    for builder in (plain, inverted):
        builder.add(TradeColumns.empty(), books)
        builder.flush()
    future, pair = plain_out.candles[0], inverted_out.candles[0]
    assert future.ofi is not None
    assert future.ofi > 0
    assert pair.ofi == -future.ofi
    assert pair.ofi_multi == pytest.approx(-(future.ofi_multi or 0.0), rel=1e-15)


def test_ofi_carries_across_minutes_and_batches() -> None:
    builder, out = _builder(levels=1)
    builder.add(TradeColumns.empty(), _books((T0 + S, 1.1600, 5, 1.1602, 5)))
    builder.add(TradeColumns.empty(), _books((T0 + 61 * S, 1.1601, 3, 1.1602, 5)))  # bid up with 3
    builder.flush()
    assert [c.ofi for c in out.candles] == [0.0, 3.0]


# --------------------------------------------------------------------------- batching invariance

Event = tuple[int, str, int, int, int]  # (offset ns, "t" or "b", a, b, c)


@st.composite
def _events(draw: st.DrawFn) -> list[Event]:
    n = draw(st.integers(1, 40))
    # Offsets over seven minutes, with many in a few seconds so that minutes are crowded and some empty.
    offsets = draw(
        st.lists(
            st.one_of(
                st.integers(0, 7 * NS_PER_MINUTE - 1),
                st.sampled_from([0, NS_PER_MINUTE - 1, 3 * NS_PER_MINUTE]),
            ),
            min_size=n,
            max_size=n,
        )
    )
    events: list[Event] = []
    for offset in sorted(offsets):
        if draw(st.booleans()):
            events.append(
                (
                    offset,
                    "t",
                    draw(st.integers(-5, 5)),
                    draw(st.integers(1, 50)),
                    draw(st.sampled_from([BUY, SELL, 0])),
                )
            )
        else:
            events.append(
                (offset, "b", draw(st.integers(-5, 5)), draw(st.integers(1, 30)), draw(st.integers(1, 30)))
            )
    return events


def _batch(events: list[Event]) -> tuple[TradeColumns, BookColumns]:
    trades = [(T0 + o, 0.0066800 + a * 5e-7, q, side) for o, k, a, q, side in events if k == "t"]
    books = [
        (T0 + o, 0.0066800 + a * 5e-7, qb, 0.0066800 + (a + 1) * 5e-7, qa)
        for o, k, a, qb, qa in events
        if k == "b"
    ]
    return _trades(*trades), _books(*books, levels=2)


def _run(target: BarTarget, spec: BarSpec, batches: list[list[Event]]) -> list[Candle]:
    builder, out = _builder(target=target, spec=spec, levels=2)
    for events in batches:
        builder.add(*_batch(events))
    builder.flush()
    return out.candles


@settings(max_examples=150, deadline=None)
@given(
    _events(),
    st.lists(st.integers(0, 40), max_size=10),
    st.booleans(),
    st.sampled_from(["mid", "trade"]),
)
def test_candles_are_identical_in_one_batch_record_by_record_or_in_random_splits(
    events: list[Event], cuts: list[int], inverted: bool, price: str
) -> None:
    target = JPY if inverted else BarTarget(symbol="USD_JPY", instrument="6JZ5", pip_size=0.01)
    spec = BarSpec(price=price)  # type: ignore[arg-type]
    whole = _run(target, spec, [events])
    one_by_one = _run(target, spec, [[e] for e in events])
    bounds = sorted({min(c, len(events)) for c in cuts} | {0, len(events)})
    split = _run(target, spec, [events[a:b] for a, b in itertools.pairwise(bounds)])
    assert whole, "every input has at least one record, so at least one candle"
    assert one_by_one == whole
    assert split == whole


@pytest.mark.parametrize("bad_minute", [0, 1, 5])
def test_an_impossible_price_among_many_minutes_still_raises_validation_error_after_the_earlier_candles(
    bad_minute: int,
) -> None:
    # Candles of a many-minute batch skip the constructor's checks only after passing them column-wise.
    builder, out = _builder()
    rows = [(T0 + i * NS_PER_MINUTE + S, -1.0 if i == bad_minute else 1.16, 1, BUY) for i in range(8)]
    with pytest.raises(ValidationError, match="open"):
        builder.add(_trades(*rows), _books())
    assert [c.timestamp for c in out.candles] == [_minute(i) for i in range(bad_minute)]


def test_candles_of_a_many_minute_batch_equal_candles_rebuilt_by_the_validating_constructor() -> None:
    builder, out = _builder(spec=BarSpec(price="mid", grace_ns=GRACE))
    trades = _trades(
        *[(T0 + i * 20 * S, 1.16 + (i % 5) * 1e-4, 1 + i % 3, BUY if i % 2 else SELL) for i in range(30)]
    )
    books = _books(
        *[(T0 + i * 20 * S + 1, 1.1599 + (i % 4) * 1e-4, 5, 1.1601 + (i % 4) * 1e-4, 6) for i in range(30)]
    )
    builder.add(trades, books)
    builder.flush()
    assert len(out.candles) == 10
    for candle in out.candles:
        rebuilt = Candle(**{name: getattr(candle, name) for name in Candle.__dataclass_fields__})
        assert repr(rebuilt) == repr(candle)
