"""`HotWindowStore.latest_delta` with the client's `apply_delta`: a client that holds a page and applies
only what changed since its token always holds exactly `latest`, whatever the writes did meanwhile."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fxhub.hub.client._pages import apply_delta
from fxhub.hub.store import HotWindowStore, SqliteStore
from fxhub.model import Candle, Source

IG = Source.IG
T0 = datetime(2025, 11, 4, 13, 0, tzinfo=UTC)
WINDOW = 8
LIMIT = 5

# A step: write new minutes (after the newest), revise a minute, fill an older minute, evict the
# window (as the LRU or a failed write does), or read (the client applies a delta or rereads).
Step = st.one_of(
    st.tuples(st.just("append"), st.integers(1, 3)),
    st.tuples(st.just("revise"), st.integers(0, 40)),
    st.tuples(st.just("fill"), st.integers(0, 40)),
    st.tuples(st.just("evict"), st.just(0)),
    st.tuples(st.just("read"), st.just(0)),
)


def make_candle(minute: int, volume: float = 10.0) -> Candle:
    return Candle(
        symbol="EUR_USD",
        timestamp=T0 + timedelta(minutes=minute),
        open=1.1,
        high=1.101,
        low=1.099,
        close=1.1,
        volume=volume,
        source="IG",
        volume_type="tick",
    )


@pytest.fixture
def hot(tmp_path: Path) -> Iterator[HotWindowStore]:
    store = HotWindowStore(SqliteStore(tmp_path / "hub.sqlite3"), window=WINDOW)
    yield store
    store.close()


class Client:
    """What a hub client holds of one latest page: the series token and the candles."""

    def __init__(self, store: HotWindowStore) -> None:
        self.store = store
        self.token: str | None = None
        self.held: list[Candle] = []
        self.deltas = 0

    def read(self) -> list[Candle]:
        delta = None if self.token is None else self.store.latest_delta("EUR_USD", LIMIT, IG, self.token)
        if delta is None:  # the route's full-page path: token first, then the page
            self.token = self.store.series_token("EUR_USD", IG)
            self.held = self.store.latest("EUR_USD", LIMIT, IG)
            return self.held
        self.token = delta.token
        if delta.changed is not None:
            self.deltas += 1
            page = {"first": delta.first and delta.first.isoformat(), "count": delta.size}
            self.held = apply_delta(self.held, delta.changed, page, "test")
        return self.held


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(Step, min_size=1, max_size=25))
def test_a_client_applying_deltas_always_holds_the_latest_page(
    tmp_path_factory: pytest.TempPathFactory, steps: list[tuple[str, int]]
) -> None:
    folder = tmp_path_factory.mktemp("delta")
    store = HotWindowStore(SqliteStore(folder / "hub.sqlite3"), window=WINDOW)
    try:
        minutes = [10, 11, 12]
        store.upsert([make_candle(m) for m in minutes])
        client = Client(store)
        client.read()
        revision = 0
        for kind, value in steps:
            if kind == "append":
                new = list(range(max(minutes) + 1, max(minutes) + 1 + value))
                minutes += new
                store.upsert([make_candle(m) for m in new])
            elif kind == "revise":
                revision += 1
                minute = sorted(minutes)[value % len(minutes)]
                store.upsert([make_candle(minute, volume=100.0 + revision)])
            elif kind == "fill" and value not in minutes:
                minutes.append(value)
                store.upsert([make_candle(value, volume=7.0)])
            elif kind == "evict":
                store._invalidate([("EUR_USD", IG)])
            assert client.read() == store.inner.latest("EUR_USD", LIMIT, IG)
    finally:
        store.close()


def test_only_the_new_minute_comes_after_an_append(hot: HotWindowStore) -> None:
    hot.upsert([make_candle(m) for m in range(6)])
    client = Client(hot)
    client.read()
    client.read()  # the first read loaded the window, this one came with its token
    hot.upsert([make_candle(6)])
    delta = hot.latest_delta("EUR_USD", LIMIT, IG, client.token or "")
    assert delta is not None
    assert delta.changed == [make_candle(6)]
    assert (delta.first, delta.size) == (make_candle(2).timestamp, LIMIT)


def test_an_unchanged_series_answers_nothing_changed_and_the_same_token(hot: HotWindowStore) -> None:
    hot.upsert([make_candle(m) for m in range(3)])
    client = Client(hot)
    client.read()
    client.read()  # the first read loaded the window, this one came with its token
    delta = hot.latest_delta("EUR_USD", LIMIT, IG, client.token or "")
    assert delta is not None
    assert (delta.token, delta.changed) == (client.token, None)


@pytest.mark.parametrize("token", ["", "garbage", "abc.1", "x.y.z"])
def test_a_token_of_another_store_or_garbage_gets_no_delta(hot: HotWindowStore, token: str) -> None:
    hot.upsert([make_candle(m) for m in range(3)])
    Client(hot).read()
    Client(hot).read()
    assert hot.latest_delta("EUR_USD", LIMIT, IG, token) is None


def test_another_stores_token_gets_no_delta(hot: HotWindowStore, tmp_path: Path) -> None:
    other = HotWindowStore(SqliteStore(tmp_path / "other.sqlite3"), window=WINDOW)
    try:
        for store in (hot, other):
            store.upsert([make_candle(m) for m in range(3)])
            Client(store).read()
            Client(store).read()
        token = other.series_token("EUR_USD", IG)
        assert token is not None
        assert hot.latest_delta("EUR_USD", LIMIT, IG, token) is None
    finally:
        other.close()


def test_a_revision_outside_the_page_changes_the_token_but_sends_no_candle(hot: HotWindowStore) -> None:
    hot.upsert([make_candle(m) for m in range(WINDOW)])
    client = Client(hot)
    client.read()
    client.read()  # the first read loaded the window, this one came with its token
    hot.upsert([dataclasses.replace(make_candle(0), volume=99.0)])  # in the window, not in the page
    delta = hot.latest_delta("EUR_USD", LIMIT, IG, client.token or "")
    assert delta is not None
    assert delta.token != client.token
    assert delta.changed == []
