"""HotWindowStore's own promises: `latest` from memory after warm-up, and a window that stays right."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path

import pytest

from fxhub.hub.store import (
    EncodedPage,
    HotWindowStore,
    InventoryRow,
    SqliteStore,
    StoreError,
    UpsertResult,
)
from fxhub.hub.store import hot as hot_module
from fxhub.model import Candle, Source

CandleFactory = Callable[..., Candle]
IG, DB = Source.IG, Source.DATABENTO
WINDOW = 5


class RecordingStore:
    """A real SqliteStore that notes each call; `before_latest_returns` runs once inside the next `latest`."""

    def __init__(self, inner: SqliteStore) -> None:
        self.inner = inner
        self.calls: list[str] = []
        self.before_latest_returns: Callable[[], object] | None = None

    def upsert(self, candles: Sequence[Candle]) -> UpsertResult:
        self.calls.append("upsert")
        return self.inner.upsert(candles)

    def latest(self, symbol: str, limit: int, source: Source | None = None) -> list[Candle]:
        self.calls.append("latest")
        got = self.inner.latest(symbol, limit, source)
        hook, self.before_latest_returns = self.before_latest_returns, None
        if hook is not None:
            hook()
        return got

    def range(
        self, symbol: str, start: datetime, end: datetime, source: Source | None = None
    ) -> list[Candle]:
        self.calls.append("range")
        return self.inner.range(symbol, start, end, source)

    def inventory(self) -> list[InventoryRow]:
        self.calls.append("inventory")
        return self.inner.inventory()

    def count(self) -> int:
        self.calls.append("count")
        return self.inner.count()

    def close(self) -> None:
        self.calls.append("close")
        self.inner.close()


@pytest.fixture
def recording(tmp_path: Path) -> Iterator[RecordingStore]:
    made = RecordingStore(SqliteStore(tmp_path / "hub.sqlite3"))
    yield made
    made.inner.close()


@pytest.fixture
def hot(recording: RecordingStore) -> HotWindowStore:
    return HotWindowStore(recording, window=WINDOW)


def assert_served_like_the_database(hot: HotWindowStore, recording: RecordingStore, symbol: str) -> None:
    for source in (None, IG, DB):
        for limit in range(WINDOW + 1):
            assert hot.latest(symbol, limit, source) == recording.inner.latest(symbol, limit, source)


def test_latest_after_warm_up_never_reads_the_inner_store(
    hot: HotWindowStore, recording: RecordingStore, candle: CandleFactory
) -> None:
    hot.upsert([candle(n, source=IG) for n in range(20)] + [candle(n, source=DB) for n in range(0, 20, 7)])
    hot.latest("EUR_USD", 1)  # warm-up: loads both sources
    recording.calls.clear()

    hot.upsert([candle(20), candle(21, source=DB)])  # new minutes
    hot.upsert([candle(18, volume=77.0), candle(14, source=DB)])  # a revision, a backfill into the window
    hot.upsert([candle(2, volume=5.0), candle(1, source=DB)])  # backfills older than the window
    for limit in range(WINDOW + 1):
        for source in (None, IG, DB):
            hot.latest("EUR_USD", limit, source)

    assert recording.calls == ["upsert", "upsert", "upsert"]
    assert_served_like_the_database(hot, recording, "EUR_USD")


def test_a_revision_inside_the_window_is_served(hot: HotWindowStore, candle: CandleFactory) -> None:
    hot.upsert([candle(n) for n in range(10)])
    assert hot.latest("EUR_USD", 3, IG) == [candle(7), candle(8), candle(9)]
    revised = candle(8, volume=99.0, trade_count=12)
    assert hot.upsert([revised]).replaced == 1
    assert hot.latest("EUR_USD", 3, IG) == [candle(7), revised, candle(9)]
    assert hot.latest("EUR_USD", 3) == [candle(7), revised, candle(9)]


def test_an_old_backfilled_candle_does_not_evict_newer_ones(
    hot: HotWindowStore, recording: RecordingStore, candle: CandleFactory
) -> None:
    hot.upsert([candle(n) for n in range(10, 20)])
    hot.latest("EUR_USD", WINDOW, IG)  # a full window: minutes 15..19
    hot.upsert([candle(n) for n in range(0, 10)])  # a day's backfill arrives later
    hot.upsert([candle(14, volume=1.5)])  # just below the window
    assert hot.latest("EUR_USD", WINDOW, IG) == [candle(n) for n in range(15, 20)]
    assert_served_like_the_database(hot, recording, "EUR_USD")


def test_a_short_series_takes_backfills_and_becomes_a_full_window(
    hot: HotWindowStore, recording: RecordingStore, candle: CandleFactory
) -> None:
    hot.upsert([candle(10), candle(11)])
    assert hot.latest("EUR_USD", WINDOW, IG) == [candle(10), candle(11)]  # all there is
    hot.upsert([candle(5)])  # older, but the window holds the whole series, so it belongs in it
    assert hot.latest("EUR_USD", WINDOW, IG) == [candle(5), candle(10), candle(11)]
    hot.upsert([candle(n) for n in (1, 2, 3, 12)])  # now longer than the window
    assert hot.latest("EUR_USD", WINDOW, IG) == [candle(n) for n in (3, 5, 10, 11, 12)]
    hot.upsert([candle(0)])  # and now an old candle no longer gets in
    assert hot.latest("EUR_USD", WINDOW, IG) == [candle(n) for n in (3, 5, 10, 11, 12)]
    assert_served_like_the_database(hot, recording, "EUR_USD")


def test_latest_without_source_merges_a_full_window_and_a_short_one(
    hot: HotWindowStore, recording: RecordingStore, candle: CandleFactory
) -> None:
    hot.upsert([candle(n, source=IG) for n in range(10)] + [candle(n, source=DB) for n in (1, 8)])
    got = hot.latest("EUR_USD", WINDOW)
    assert [(c.timestamp.minute, c.source) for c in got] == [(6, IG), (7, IG), (8, DB), (8, IG), (9, IG)]
    assert_served_like_the_database(hot, recording, "EUR_USD")


def test_latest_above_the_window_reads_the_inner_store(
    hot: HotWindowStore, recording: RecordingStore, candle: CandleFactory
) -> None:
    hot.upsert([candle(n) for n in range(10)])
    hot.latest("EUR_USD", WINDOW)
    recording.calls.clear()
    assert hot.latest("EUR_USD", WINDOW + 1, IG) == [candle(n) for n in range(4, 10)]
    assert recording.calls == ["latest"]


def test_window_zero_turns_the_cache_off(recording: RecordingStore, candle: CandleFactory) -> None:
    hot = HotWindowStore(recording, window=0)
    hot.upsert([candle(0)])
    assert hot.latest("EUR_USD", 1) == [candle(0)]
    assert hot.latest("EUR_USD", 1) == [candle(0)]
    assert recording.calls == ["upsert", "latest", "latest"]


def test_a_failed_upsert_leaves_the_window_as_the_database_is(
    hot: HotWindowStore, recording: RecordingStore, candle: CandleFactory
) -> None:
    hot.upsert([candle(n) for n in range(3)])
    hot.latest("EUR_USD", WINDOW)
    broken = candle(4)
    object.__setattr__(broken, "low", broken.high + 1.0)  # past Candle's checks, refused by the database
    with pytest.raises(StoreError):
        hot.upsert([candle(3), broken])
    assert hot.latest("EUR_USD", WINDOW) == [candle(n) for n in range(3)]


def test_a_write_that_commits_while_a_window_loads_is_not_lost(
    hot: HotWindowStore, recording: RecordingStore, candle: CandleFactory
) -> None:
    hot.upsert([candle(n) for n in range(3)])
    # The load reads minutes 0..2; before it is installed, another thread's push of minute 3 commits.
    recording.before_latest_returns = lambda: hot.upsert([candle(3)])
    assert hot.latest("EUR_USD", WINDOW, IG) == [candle(n) for n in range(4)]
    recording.calls.clear()
    assert hot.latest("EUR_USD", WINDOW, IG) == [candle(n) for n in range(4)]
    assert recording.calls == []


def test_the_least_recently_read_series_is_dropped_beyond_the_limit_and_reloaded(
    hot: HotWindowStore, recording: RecordingStore, candle: CandleFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hot_module, "MAX_CACHED_SERIES", 2)
    hot.upsert([candle(0, symbol=s) for s in ("EUR_USD", "GBP_USD", "USD_JPY")])
    for symbol in ("EUR_USD", "GBP_USD", "USD_JPY"):
        hot.latest(symbol, 1, IG)
    recording.calls.clear()
    hot.upsert([candle(1, symbol="EUR_USD")])  # EUR_USD was dropped: nothing to apply it to
    assert hot.latest("USD_JPY", 1, IG) == [candle(0, symbol="USD_JPY")]
    assert recording.calls == ["upsert"]
    assert hot.latest("EUR_USD", 2, IG) == [candle(0), candle(1)]
    assert recording.calls == ["upsert", "latest"]


def test_range_inventory_count_and_close_are_delegated(
    hot: HotWindowStore, recording: RecordingStore, candle: CandleFactory
) -> None:
    c = candle(0)
    hot.upsert([c])
    assert hot.range("EUR_USD", c.timestamp, c.timestamp.replace(hour=23)) == [c]
    assert hot.inventory() == recording.inner.inventory()
    assert hot.count() == 1
    hot.close()
    assert recording.calls == ["upsert", "range", "inventory", "count", "close"]


@pytest.mark.parametrize("window", [-1, 2.5, True])
def test_a_window_that_is_not_a_count_is_refused(recording: RecordingStore, window: object) -> None:
    with pytest.raises(ValueError, match="window"):
        HotWindowStore(recording, window=window)  # type: ignore[arg-type]


def test_latest_in_memory_answers_as_latest_once_loaded_and_never_reads_the_inner_store(
    hot: HotWindowStore, recording: RecordingStore, candle: CandleFactory
) -> None:
    hot.upsert([candle(n, source=IG) for n in range(12)] + [candle(n, source=DB) for n in range(0, 12, 3)])
    assert hot.latest_in_memory("EUR_USD", 3) is None  # nothing loaded yet: the caller reads the store
    hot.latest("EUR_USD", 1)  # loads both windows
    recording.calls.clear()
    for source in (None, IG, DB):
        for limit in range(1, WINDOW + 1):
            assert hot.latest_in_memory("EUR_USD", limit, source) == recording.inner.latest(
                "EUR_USD", limit, source
            )
    assert recording.calls == []


@pytest.mark.parametrize("limit", [0, WINDOW + 1, True, 2.0])
def test_latest_in_memory_declines_a_limit_the_window_cannot_answer(
    hot: HotWindowStore, candle: CandleFactory, limit: object
) -> None:
    hot.upsert([candle(n) for n in range(10)])
    hot.latest("EUR_USD", 1, IG)
    assert hot.latest_in_memory("EUR_USD", limit, IG) is None  # type: ignore[arg-type]


def test_latest_in_memory_declines_while_a_write_holds_the_lock(
    hot: HotWindowStore, candle: CandleFactory
) -> None:
    hot.upsert([candle(n) for n in range(10)])
    hot.latest("EUR_USD", 1, IG)
    with hot._lock:
        assert hot.latest_in_memory("EUR_USD", 2, IG) is None
    assert hot.latest_in_memory("EUR_USD", 2, IG) == [candle(8), candle(9)]


def _encode(candles: list[Candle]) -> bytes:
    return repr([(*c.key, c.volume) for c in candles]).encode()


def _page(candles: list[Candle]) -> EncodedPage:
    return EncodedPage.of(_encode(candles))


def test_latest_page_encodes_once_and_serves_the_kept_page_until_a_write_touches_its_series(
    hot: HotWindowStore, candle: CandleFactory
) -> None:
    encoded: list[list[Candle]] = []

    def encode(candles: list[Candle]) -> bytes:
        encoded.append(candles)
        return _encode(candles)

    hot.upsert([candle(n, source=s) for n in range(10) for s in (IG, DB)])
    assert hot.latest_page("EUR_USD", 3, None, encode) is None  # nothing loaded: the caller reads the store
    hot.latest("EUR_USD", 1)
    first = hot.latest_page("EUR_USD", 3, None, encode)
    assert first == _page(hot.latest("EUR_USD", 3))
    assert hot.latest_page("EUR_USD", 3, None, encode) is first  # kept: not encoded again
    hot.upsert([candle(5, symbol="GBP_USD")])  # another series: the page stays
    assert hot.latest_page("EUR_USD", 3, None, encode) is first
    assert len(encoded) == 1

    revised = candle(9, source=DB, volume=99.0)
    hot.upsert([revised])  # a revision in one of the page's series: read after write sees it
    after = hot.latest_page("EUR_USD", 3, None, encode)
    assert after == _page(hot.latest("EUR_USD", 3))
    assert revised in encoded[-1]
    assert hot.latest_page("EUR_USD", 3, IG, encode) == _page([candle(7), candle(8), candle(9)])


def test_latest_page_is_not_kept_from_before_a_write_that_raced_its_encoding(
    hot: HotWindowStore, candle: CandleFactory
) -> None:
    hot.upsert([candle(n) for n in range(10)])
    hot.latest("EUR_USD", 1, IG)

    def encode_while_a_write_commits(candles: list[Candle]) -> bytes:
        hot.upsert([candle(10)])  # commits after the page's candles were taken, before it is kept
        return _encode(candles)

    stale = hot.latest_page("EUR_USD", 2, IG, encode_while_a_write_commits)
    assert stale == _page([candle(8), candle(9)])  # the answer as of the read: fine to return once
    assert hot.latest_page("EUR_USD", 2, IG, _encode) == _page([candle(9), candle(10)])  # never kept


def test_latest_page_is_dropped_when_its_window_is_evicted_and_loaded_again(
    hot: HotWindowStore, recording: RecordingStore, candle: CandleFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hot_module, "MAX_CACHED_SERIES", 1)
    hot.upsert([candle(n) for n in range(10)])
    hot.latest("EUR_USD", 1, IG)
    kept = hot.latest_page("EUR_USD", 2, IG, _encode)
    hot.latest("GBP_USD", 1, IG)  # evicts EUR_USD's window
    recording.inner.upsert([candle(10)])  # a write this hub did not see (another hub on the database)
    assert hot.latest_page("EUR_USD", 2, IG, _encode) is None  # not loaded: the caller reads the store
    hot.latest("EUR_USD", 1, IG)  # loaded again, with the other hub's write
    assert kept != hot.latest_page("EUR_USD", 2, IG, _encode) == _page([candle(9), candle(10)])


def test_latest_page_keeps_at_most_max_page_bytes(
    hot: HotWindowStore, candle: CandleFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    hot.upsert([candle(n) for n in range(10)])
    hot.latest("EUR_USD", 1, IG)
    size = len(_encode([candle(0)]))
    monkeypatch.setattr(hot_module, "MAX_PAGE_BYTES", 2 * size)
    calls: list[int] = []

    def encode(candles: list[Candle]) -> bytes:
        calls.append(len(candles))
        return _encode(candles[:1])  # every page `size` bytes

    for limit in (1, 2, 3):
        hot.latest_page("EUR_USD", limit, IG, encode)
    hot.latest_page("EUR_USD", 3, IG, encode)
    hot.latest_page("EUR_USD", 2, IG, encode)
    assert calls == [1, 2, 3]  # 2 and 3 kept
    hot.latest_page("EUR_USD", 1, IG, encode)  # the least recently read (1) went first
    assert calls == [1, 2, 3, 1]
