"""Every backend against a plain dict: after any sequence of upserts, every read agrees with the model.

Candles are drawn from a small space (two symbols, both sources, twelve minutes, a few prices and
extras), so batches repeat keys, repeat candles exactly and revise them often.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from fxhub.hub.store import CandleKey, CandleStore, InventoryRow, UpsertResult
from fxhub.model import SOURCE_VOLUME_TYPE, Candle, PriceBasis, Source

StoreFactory = Callable[[], CandleStore]
T0 = datetime(2025, 11, 4, 13, 0, tzinfo=UTC)
SYMBOLS = ("EUR_USD", "ES")
MINUTES = 12
SETTINGS = settings(
    max_examples=40,
    stateful_step_count=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

symbols = st.sampled_from(SYMBOLS)
sources = st.sampled_from(list(Source))


@st.composite
def candles(draw: st.DrawFn) -> Candle:
    low = draw(st.sampled_from([1.0, 1.5]))
    high = low + draw(st.sampled_from([0.0, 0.25]))
    source = draw(sources)
    return Candle(
        symbol=draw(symbols),
        timestamp=T0 + timedelta(minutes=draw(st.integers(0, MINUTES - 1))),
        open=draw(st.sampled_from([low, high])),
        high=high,
        low=low,
        close=draw(st.sampled_from([low, high])),
        volume=draw(st.sampled_from([0.0, 7.5])),
        source=source,
        volume_type=SOURCE_VOLUME_TYPE[source],
        trade_count=draw(st.none() | st.sampled_from([0, 3])),
        ofi=draw(st.none() | st.floats(-1e9, 1e9, allow_nan=False, allow_infinity=False)),
        price_basis=draw(st.none() | st.sampled_from(list(PriceBasis))),
        instrument=draw(st.none() | st.just("6EZ5")),
        complete=draw(st.none() | st.booleans()),
    )


def ordered(items: list[Candle]) -> list[Candle]:
    return sorted(items, key=lambda c: (c.timestamp, c.source.value))


class StoreAgainstModel(RuleBasedStateMachine):
    def __init__(self, store: CandleStore) -> None:
        super().__init__()
        self.store = store
        self.model: dict[CandleKey, Candle] = {}

    def series(self, symbol: str, source: Source | None) -> list[Candle]:
        return ordered([c for c in self.model.values() if c.symbol == symbol and source in (None, c.source)])

    @rule(batch=st.lists(candles(), max_size=8))
    def upsert(self, batch: list[Candle]) -> None:
        inserted = replaced = unchanged = 0
        replaced_keys: list[CandleKey] = []
        changed: list[Candle] = []
        for c in batch:
            before = self.model.get(c.key)
            if before == c:
                unchanged += 1
                continue
            if before is None:
                inserted += 1
            else:
                replaced += 1
                replaced_keys.append(c.key)
            changed.append(c)
            self.model[c.key] = c
        expected = UpsertResult(inserted, replaced, unchanged, tuple(replaced_keys), tuple(changed))
        assert self.store.upsert(batch) == expected

    @rule(symbol=symbols, limit=st.integers(0, MINUTES * 2 + 1), source=st.none() | sources)
    def latest(self, symbol: str, limit: int, source: Source | None) -> None:
        expected = self.series(symbol, source)[-limit:] if limit else []
        assert self.store.latest(symbol, limit, source) == expected

    @rule(
        symbol=symbols,
        start=st.integers(-1, MINUTES),
        length=st.integers(0, MINUTES),
        shift=st.sampled_from([timedelta(0), timedelta(seconds=1), timedelta(seconds=-1)]),
        source=st.none() | sources,
    )
    def range(self, symbol: str, start: int, length: int, shift: timedelta, source: Source | None) -> None:
        low = T0 + timedelta(minutes=start) + shift
        high = low + timedelta(minutes=length)
        expected = [c for c in self.series(symbol, source) if low <= c.timestamp < high]
        assert self.store.range(symbol, low, high, source) == expected

    @invariant()
    def inventory_and_count_agree(self) -> None:
        expected = []
        for symbol, source in sorted({(c.symbol, c.source.value) for c in self.model.values()}):
            stamps = [c.timestamp for c in self.series(symbol, Source(source))]
            expected.append(InventoryRow(symbol, Source(source), len(stamps), stamps[0], stamps[-1]))
        assert self.store.inventory() == expected
        assert self.store.count() == len(self.model)

    def teardown(self) -> None:
        self.store.close()  # now, not at the end of the test: each example opens a store


def test_store_agrees_with_a_dict_after_any_sequence_of_upserts(store_factory: StoreFactory) -> None:
    run_state_machine_as_test(lambda: StoreAgainstModel(store_factory()), settings=SETTINGS)
