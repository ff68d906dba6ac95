"""Tick-volume minute candles from spot quotes (`QuoteBarBuilder`), driven by hand-made quotes and a
manual clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fxhub.core.bars import NS_PER_MINUTE, BarSpec, QuoteBarBuilder
from fxhub.model import Candle, PriceBasis, Quote, Source, VolumeType
from fxhub.sources.ig.replay import fx_minute_open

EUR_USD_PIP = 0.0001
EPIC = "CS.D.EURUSD.MINI.IP"
NS_PER_S = 1_000_000_000
GRACE_NS = 2 * NS_PER_S
# Monday 2025-11-03 14:00 UTC: spot FX is open.
BASE = datetime(2025, 11, 3, 14, 0, tzinfo=UTC)
BASE_NS = int(BASE.timestamp()) * NS_PER_S


def at(minute: int, second: float = 0.0) -> int:
    return BASE_NS + minute * NS_PER_MINUTE + round(second * NS_PER_S)


def minute_label(minute: int) -> datetime:
    return BASE + timedelta(minutes=minute)


def quote(ts_ns: int, bid: float, ask: float | None = None, symbol: str = "EUR_USD") -> Quote:
    return Quote(symbol=symbol, ts_event=ts_ns, bid=bid, ask=bid + 0.00002 if ask is None else ask)


def always_open(minute_ns: int) -> bool:
    return True


@dataclass
class ManualClock:
    """Event time that only moves when a test moves it."""

    now_ns: int

    def move_to(self, ts_ns: int) -> int:
        assert ts_ns >= self.now_ns
        self.now_ns = ts_ns
        return ts_ns


def builder(
    candles: list[Candle],
    *,
    market_open: Callable[[int], bool] = always_open,
    spec: BarSpec | None = None,
    pip_size: float = EUR_USD_PIP,
    symbol: str = "EUR_USD",
) -> QuoteBarBuilder:
    return QuoteBarBuilder(
        symbol,
        pip_size,
        spec or BarSpec(grace_ns=GRACE_NS),
        candles.append,
        market_open,
        instrument=EPIC,
    )


# --- OHLC, volume, spread ---------------------------------------------------------------------------------


def test_quote_bars_minute_ohlc_comes_from_mids_and_volume_counts_quotes() -> None:
    candles: list[Candle] = []
    bars = builder(candles)
    for second, bid in ((1, 1.10000), (20, 1.10050), (40, 1.09950), (59.999, 1.10010)):
        bars.on_quote(quote(at(0, second), bid, bid + 0.0001))
    assert candles == []  # the minute is still open

    bars.on_quote(quote(at(1, 0), 1.1002, 1.1003))

    [candle] = candles
    assert candle.timestamp == minute_label(0)
    assert (candle.open, candle.high, candle.low, candle.close) == pytest.approx(
        (1.10005, 1.10055, 1.09955, 1.10015)
    )
    assert candle.volume == 4
    assert candle.quote_count == 4


def test_quote_bars_spread_is_averaged_and_maxed_in_pips() -> None:
    candles: list[Candle] = []
    bars = builder(candles)
    for second, ask in ((1, 1.10005), (2, 1.10010), (3, 1.10015)):
        bars.on_quote(quote(at(0, second), 1.10000, ask))
    bars.flush()
    [candle] = candles
    assert candle.avg_spread_pips == pytest.approx(1.0)
    assert candle.max_spread_pips == pytest.approx(1.5)


def test_quote_bars_spread_uses_the_pairs_pip_size() -> None:
    candles: list[Candle] = []
    bars = builder(candles, pip_size=0.01, symbol="USD_JPY")
    bars.on_quote(quote(at(0, 1), 153.400, 153.407, symbol="USD_JPY"))
    bars.flush()
    assert candles[0].max_spread_pips == pytest.approx(0.7)
    assert candles[0].symbol == "USD_JPY"


def test_quote_bars_candles_are_tagged_ig_tick_spot_with_the_instrument() -> None:
    candles: list[Candle] = []
    bars = builder(candles)
    bars.on_quote(quote(at(0, 5), 1.1))
    bars.flush()
    [candle] = candles
    assert candle.source is Source.IG
    assert candle.volume_type is VolumeType.TICK
    assert candle.price_basis is PriceBasis.SPOT
    assert candle.instrument == EPIC
    assert candle.vwap is None
    assert candle.trade_count is None
    assert bars.candles_emitted == 1


def test_quote_bars_quote_on_the_minute_boundary_opens_the_new_minute() -> None:
    candles: list[Candle] = []
    bars = builder(candles)
    bars.on_quote(quote(at(0, 30), 1.1))
    bars.on_quote(quote(at(1, 0), 1.2))
    bars.flush()
    assert [(c.timestamp, c.volume) for c in candles] == [(minute_label(0), 1), (minute_label(1), 1)]
    assert [c.open for c in candles] == pytest.approx([1.10001, 1.20001])


# --- when a minute is emitted -----------------------------------------------------------------------------


def test_quote_bars_advance_emits_the_minute_only_after_its_end_plus_grace() -> None:
    candles: list[Candle] = []
    bars = builder(candles)
    clock = ManualClock(at(0, 10))
    bars.on_quote(quote(clock.now_ns, 1.1))

    bars.advance(clock.move_to(at(1, 0)))
    bars.advance(clock.move_to(at(1, 0) + GRACE_NS - 1))
    assert candles == []

    bars.advance(clock.move_to(at(1, 0) + GRACE_NS))
    assert [c.timestamp for c in candles] == [minute_label(0)]


def test_quote_bars_quote_inside_the_grace_still_lands_in_its_minute() -> None:
    candles: list[Candle] = []
    bars = builder(candles)
    clock = ManualClock(at(0, 10))
    bars.on_quote(quote(clock.now_ns, 1.1))
    bars.advance(clock.move_to(at(1, 1)))
    bars.on_quote(quote(at(0, 59.9), 1.2))  # arrives late, but within the grace
    bars.advance(clock.move_to(at(1, 2)))
    assert [c.volume for c in candles] == [2]
    assert candles[0].high == pytest.approx(1.20001)
    assert bars.late_quotes == 0


def test_quote_bars_when_minute_has_no_quotes_emits_zero_volume_flat_candle() -> None:
    candles: list[Candle] = []
    bars = builder(candles)
    bars.on_quote(quote(at(0, 10), 1.1))
    bars.on_quote(quote(at(0, 50), 1.3))
    bars.on_quote(quote(at(3, 5), 1.2))
    bars.flush()

    assert [c.timestamp for c in candles] == [minute_label(m) for m in range(4)]
    for empty in candles[1:3]:
        assert empty.volume == 0
        assert empty.quote_count == 0
        assert empty.open == empty.high == empty.low == empty.close == candles[0].close
        assert empty.avg_spread_pips is None
        assert empty.max_spread_pips is None
        assert (empty.source, empty.volume_type) == (Source.IG, VolumeType.TICK)


def test_quote_bars_advance_fills_quiet_open_minutes_once_their_grace_has_passed() -> None:
    candles: list[Candle] = []
    bars = builder(candles)
    clock = ManualClock(at(0, 10))
    bars.on_quote(quote(clock.now_ns, 1.1))

    bars.advance(clock.move_to(at(3, 0) + GRACE_NS - 1))
    assert [(c.timestamp, c.volume) for c in candles] == [(minute_label(0), 1), (minute_label(1), 0)]

    bars.advance(clock.move_to(at(3, 0) + GRACE_NS))
    assert [(c.timestamp, c.volume) for c in candles][2:] == [(minute_label(2), 0)]


def test_quote_bars_without_emit_empty_skips_quiet_minutes() -> None:
    candles: list[Candle] = []
    bars = builder(candles, spec=BarSpec(grace_ns=GRACE_NS, emit_empty=False))
    bars.on_quote(quote(at(0, 10), 1.1))
    bars.on_quote(quote(at(3, 5), 1.2))
    bars.advance(at(6))
    bars.flush()
    assert [c.timestamp for c in candles] == [minute_label(0), minute_label(3)]


def test_quote_bars_before_any_quote_advance_and_flush_emit_nothing() -> None:
    candles: list[Candle] = []
    bars = builder(candles)
    bars.advance(at(10))
    bars.flush()
    assert candles == []


# --- closed market ----------------------------------------------------------------------------------------


def test_quote_bars_closed_minutes_get_no_candle_even_with_quotes() -> None:
    closed = {at(1), at(2)}
    candles: list[Candle] = []
    bars = builder(candles, market_open=lambda minute_ns: minute_ns not in closed)
    bars.on_quote(quote(at(0, 10), 1.1))
    bars.on_quote(quote(at(2, 10), 1.2))  # inside the closed period: dropped with its minute
    bars.on_quote(quote(at(4, 10), 1.3))
    bars.flush()
    assert [(c.timestamp, c.volume) for c in candles] == [
        (minute_label(0), 1),
        (minute_label(3), 0),
        (minute_label(4), 1),
    ]


def test_quote_bars_with_fx_hours_emit_nothing_from_friday_close_to_sunday_open() -> None:
    # Friday 2025-11-07 16:58 New York (21:58 UTC) to Sunday 17:01 New York (22:01 UTC).
    friday = int(datetime(2025, 11, 7, 21, 58, tzinfo=UTC).timestamp()) * NS_PER_S
    sunday = int(datetime(2025, 11, 9, 22, 1, tzinfo=UTC).timestamp()) * NS_PER_S
    candles: list[Candle] = []
    bars = builder(candles, market_open=fx_minute_open)
    bars.on_quote(quote(friday + 5 * NS_PER_S, 1.1))
    bars.on_quote(quote(friday + 2 * NS_PER_MINUTE + 5 * NS_PER_S, 1.2))  # 17:00 New York: closed
    bars.on_quote(quote(sunday + 5 * NS_PER_S, 1.3))
    bars.flush()
    assert [(c.timestamp.strftime("%a %H:%M"), c.volume) for c in candles] == [
        ("Fri 21:58", 1),
        ("Fri 21:59", 0),
        ("Sun 22:00", 0),
        ("Sun 22:01", 1),
    ]


# --- late quotes ------------------------------------------------------------------------------------------


def test_quote_bars_late_quote_for_emitted_minute_is_counted_and_dropped() -> None:
    candles: list[Candle] = []
    bars = builder(candles)
    bars.on_quote(quote(at(0, 10), 1.1))
    bars.on_quote(quote(at(1, 10), 1.1))
    bars.on_quote(quote(at(0, 30), 1.5))  # minute 0 is out already
    bars.flush()
    assert bars.late_quotes == 1
    assert [c.volume for c in candles] == [1, 1]
    assert [c.high for c in candles] == pytest.approx([1.10001, 1.10001])


def test_quote_bars_late_quote_for_minute_filled_as_empty_is_counted_and_dropped() -> None:
    candles: list[Candle] = []
    bars = builder(candles)
    bars.on_quote(quote(at(0, 10), 1.1))
    bars.advance(at(3) + GRACE_NS)  # closes minute 0, fills minutes 1 and 2 as empty
    bars.on_quote(quote(at(2, 59), 1.5))
    bars.flush()
    assert bars.late_quotes == 1
    assert [c.volume for c in candles] == [1, 0, 0]


def test_quote_bars_quote_older_than_the_open_minute_is_late_before_any_emission() -> None:
    candles: list[Candle] = []
    bars = builder(candles)
    bars.on_quote(quote(at(5, 10), 1.1))
    bars.on_quote(quote(at(3, 10), 1.5))
    bars.flush()
    assert bars.late_quotes == 1
    assert [(c.timestamp, c.volume) for c in candles] == [(minute_label(5), 1)]


# --- property: the candles equal an independent per-minute summary ----------------------------------------


@given(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=8 * NS_PER_MINUTE),
            st.integers(min_value=100_000, max_value=120_000),
            st.integers(min_value=0, max_value=30),
        ),
        min_size=1,
        max_size=60,
    )
)
def test_quote_bars_of_ordered_quotes_match_a_per_minute_summary(raw: list[tuple[int, int, int]]) -> None:
    quotes = [
        quote(BASE_NS + offset, bid / 100_000, (bid + spread) / 100_000)
        for offset, bid, spread in sorted(raw)
    ]
    candles: list[Candle] = []
    bars = builder(candles)
    for q in quotes:
        bars.on_quote(q)
    bars.flush()

    by_minute: dict[int, list[Quote]] = {}
    for q in quotes:
        by_minute.setdefault((q.ts_event - BASE_NS) // NS_PER_MINUTE, []).append(q)
    first, last = min(by_minute), max(by_minute)
    assert [c.timestamp for c in candles] == [minute_label(m) for m in range(first, last + 1)]
    assert sum(c.volume for c in candles) == len(quotes)
    assert bars.late_quotes == 0
    previous_close = None
    for minute, candle in zip(range(first, last + 1), candles, strict=True):
        group = by_minute.get(minute)
        if group is None:
            assert candle.volume == 0
            assert candle.open == candle.close == previous_close
        else:
            mids = [q.mid for q in group]
            spreads = [q.spread / EUR_USD_PIP for q in group]
            assert (candle.open, candle.high, candle.low, candle.close) == (
                mids[0],
                max(mids),
                min(mids),
                mids[-1],
            )
            assert candle.quote_count == len(group)
            assert candle.avg_spread_pips == pytest.approx(sum(spreads) / len(spreads))
            assert candle.max_spread_pips == pytest.approx(max(spreads))
        previous_close = candle.close
