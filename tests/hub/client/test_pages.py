"""Conditional candle reads (`_pages.PageCache`): a kept page asked again with its `ETag`, against a real hub
process (what the hub's tags mean) and a stand-in (what the cache does with any answer)."""

from __future__ import annotations

import dataclasses
import hashlib
import threading
from datetime import timedelta
from pathlib import Path

import httpx
import orjson
import pytest
from client_support import T0, RunningHub, databento_candle, ig_candle

from fxhub.errors import ValidationError
from fxhub.hub.client import AsyncHubClient, HubClient, HubError
from fxhub.hub.client._pages import PageCache
from fxhub.hub.client._protocol import latest_request
from fxhub.hub.store import SqliteStore
from fxhub.model import Candle


class Recording(httpx.HTTPTransport):
    """The real transport, noting each request's `If-None-Match` and the status that came back."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str | None, int]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        self.seen.append((request.headers.get("if-none-match"), response.status_code))
        return response


class AsyncRecording(httpx.AsyncHTTPTransport):
    def __init__(self) -> None:
        super().__init__()
        self.statuses: list[int] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        self.statuses.append(response.status_code)
        return response


def statuses(transport: Recording) -> list[int]:
    return [status for _, status in transport.seen]


# --- against a real hub ----------------------------------------------------------------------------


def test_an_unchanged_page_is_a_304_that_returns_equal_candles_in_a_new_list(hub: RunningHub) -> None:
    transport = Recording()
    with HubClient(hub.url, hub.token, transport=transport) as client:
        client.push_candles([maker(m) for m in range(10) for maker in (ig_candle, databento_candle)])
        first = client.get_latest_candles("EUR_USD", limit=6)
        first.clear()  # the caller's list: the cache keeps its own
        again = client.get_latest_candles("EUR_USD", limit=6)
        third = client.get_latest_candles("EUR_USD", limit=6)
    assert statuses(transport)[1:] == [200, 304, 304]
    assert transport.seen[2][0] is not None
    assert again == third == client_expected(range(7, 10))
    assert again is not third


def client_expected(minutes: range) -> list[Candle]:
    both = [maker(m) for m in minutes for maker in (databento_candle, ig_candle)]
    return sorted(both, key=lambda c: (c.timestamp, c.source.value))


def test_a_new_minute_and_a_revised_older_minute_both_reach_the_client(hub: RunningHub) -> None:
    incomplete = dataclasses.replace(ig_candle(7), complete=False)
    transport = Recording()
    with HubClient(hub.url, hub.token, transport=transport) as client:
        client.push_candles([incomplete if m == 7 else ig_candle(m) for m in range(10)])
        assert client.get_latest_candles("EUR_USD", limit=4, source="IG")[1] == incomplete

        client.push_candles([ig_candle(10)])  # a new minute
        assert client.get_latest_candles("EUR_USD", limit=4, source="IG") == [
            incomplete,
            *(ig_candle(m) for m in (8, 9, 10)),
        ]
        # A backfill replaces the incomplete minute: same timestamp, other volume, complete.
        backfilled = dataclasses.replace(ig_candle(7), volume=77.0, quote_count=77)
        assert client.push_candles([backfilled]).replaced == 1
        revised = client.get_latest_candles("EUR_USD", limit=4, source="IG")
        assert revised == [backfilled, *(ig_candle(m) for m in (8, 9, 10))]
        assert client.get_latest_candles("EUR_USD", limit=4, source="IG") == revised
    assert statuses(transport)[-4:] == [200, 200, 200, 304]


def test_range_reads_are_conditional_page_by_page(hub: RunningHub) -> None:
    candles = [ig_candle(m) for m in range(12)]
    transport = Recording()
    with HubClient(hub.url, hub.token, transport=transport, range_page_limit=5) as client:
        client.push_candles(candles)
        first = client.get_candles("EUR_USD", T0, T0 + timedelta(minutes=12))
        again = client.get_candles("EUR_USD", T0, T0 + timedelta(minutes=12))
        client.push_candles([dataclasses.replace(ig_candle(11), volume=99.0, quote_count=99)])
        changed = client.get_candles("EUR_USD", T0, T0 + timedelta(minutes=12))
    assert first == again == candles
    assert changed[-1].volume == 99.0
    # Three pages each time (0-4, 4-8, 8-11); the push (200) changed only the last one.
    assert statuses(transport)[1:] == [200, 200, 200, 304, 304, 304, 200, 304, 304, 200]


def test_a_kept_tag_holds_across_a_hub_restart_on_the_same_data_but_not_a_write_made_meanwhile(
    hub: RunningHub,
) -> None:
    transport = Recording()
    with HubClient(hub.url, hub.token, transport=transport) as client:
        client.push_candles([ig_candle(m) for m in range(5)])
        before = client.get_latest_candles("EUR_USD", limit=3)
        hub.stop()
        hub.start()
        assert client.get_latest_candles("EUR_USD", limit=3) == before
        assert statuses(transport)[-1] == 304  # the same bytes: a tag from the hub's earlier life holds

        hub.stop()
        other = SqliteStore(Path(hub.store_url))  # another writer on the database while the hub was down
        other.upsert([dataclasses.replace(ig_candle(4), volume=12.0, quote_count=12)])
        other.close()
        hub.start()
        assert client.get_latest_candles("EUR_USD", limit=3)[-1].volume == 12.0
        assert statuses(transport)[-1] == 200


@pytest.mark.anyio
async def test_the_async_client_reads_conditionally_too(hub: RunningHub) -> None:
    transport = AsyncRecording()
    async with AsyncHubClient(hub.url, hub.token, transport=transport) as client:
        await client.push_candles([ig_candle(m) for m in range(5)])
        first = await client.get_latest_candles("EUR_USD", limit=3)
        again = await client.get_latest_candles("EUR_USD", limit=3)
        await client.push_candles([ig_candle(5)])
        newer = await client.get_latest_candles("EUR_USD", limit=3)
    assert first == again == [ig_candle(m) for m in (2, 3, 4)]
    assert newer == [ig_candle(m) for m in (3, 4, 5)]
    assert transport.statuses[1:] == [200, 304, 200, 200]


# --- against a stand-in ----------------------------------------------------------------------------


class TaggingHub:
    """Answers `latest` with `limit` IG candles, tagged like the hub (or untagged, or with a 304 always)."""

    def __init__(self, *, tags: bool = True, always_304: bool = False) -> None:
        self.tags = tags
        self.always_304 = always_304
        self.version = 0  # part of every page: bumping it changes every page
        self.sent: list[tuple[int, str | None]] = []  # (limit, If-None-Match)
        self.lock = threading.Lock()

    def handle(self, request: httpx.Request) -> httpx.Response:
        limit = int(request.url.params["limit"])
        asked = request.headers.get("if-none-match")
        with self.lock:
            self.sent.append((limit, asked))
        if self.always_304:
            return httpx.Response(304)
        candles = [ig_candle(m + self.version).to_dict() for m in range(limit)]
        body = orjson.dumps({"symbol": "EUR_USD", "source": None, "candles": candles})
        tag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
        if asked == tag:
            return httpx.Response(304, headers={"ETag": tag})
        return httpx.Response(200, content=body, headers={"ETag": tag} if self.tags else {})


def stand_in_client(stand_in: TaggingHub, cached_pages: int = 64) -> HubClient:
    transport = httpx.MockTransport(stand_in.handle)
    return HubClient("http://hub.test", "t0ken", transport=transport, cached_pages=cached_pages)


def test_the_cache_keeps_at_most_cached_pages_urls_least_recently_used_first() -> None:
    stand_in = TaggingHub()
    with stand_in_client(stand_in, cached_pages=2) as client:
        for limit in (1, 2, 1, 3):  # 2 is the least recently used when 3 comes
            client.get_latest_candles("EUR_USD", limit=limit)
        client.get_latest_candles("EUR_USD", limit=2)
        client.get_latest_candles("EUR_USD", limit=3)
        assert len(client._pages) == 2
    assert [(limit, asked is not None) for limit, asked in stand_in.sent] == [
        (1, False),
        (2, False),
        (1, True),
        (3, False),
        (2, False),  # dropped
        (3, True),
    ]


def test_a_tag_the_hub_no_longer_has_gets_the_new_page_which_replaces_the_kept_one() -> None:
    stand_in = TaggingHub()
    with stand_in_client(stand_in) as client:
        client.get_latest_candles("EUR_USD", limit=2)
        stand_in.version = 5  # e.g. another hub's data behind the same address
        assert client.get_latest_candles("EUR_USD", limit=2) == [ig_candle(5), ig_candle(6)]
        assert client.get_latest_candles("EUR_USD", limit=2) == [ig_candle(5), ig_candle(6)]
    assert [asked is not None for _, asked in stand_in.sent] == [False, True, True]
    assert stand_in.sent[1][1] != stand_in.sent[2][1]


def test_an_answer_without_a_tag_is_not_kept() -> None:
    stand_in = TaggingHub(tags=False)  # an older hub
    with stand_in_client(stand_in) as client:
        for _ in range(2):
            assert client.get_latest_candles("EUR_USD", limit=2) == [ig_candle(0), ig_candle(1)]
    assert [asked for _, asked in stand_in.sent] == [None, None]


def test_no_cached_pages_means_plain_reads() -> None:
    stand_in = TaggingHub()
    with stand_in_client(stand_in, cached_pages=0) as client:
        for _ in range(2):
            client.get_latest_candles("EUR_USD", limit=2)
    assert [asked for _, asked in stand_in.sent] == [None, None]


def test_a_304_to_a_read_that_named_no_page_is_a_hub_error() -> None:
    with (
        stand_in_client(TaggingHub(always_304=True)) as client,
        pytest.raises(HubError, match="304 Not Modified to a request that named no page"),
    ):
        client.get_latest_candles("EUR_USD", limit=2)


@pytest.mark.parametrize("entries", [-1, 1.5, True, "64"])
def test_cached_pages_must_be_a_whole_number(entries: object) -> None:
    with pytest.raises(ValidationError, match="cached_pages"):
        HubClient("http://hub.test", "t0ken", cached_pages=entries)  # type: ignore[arg-type]


def test_the_cache_holds_at_most_max_candles_and_keeps_no_larger_answer() -> None:
    stand_in = TaggingHub()
    cache = PageCache(8, max_candles=5)
    with httpx.Client(transport=httpx.MockTransport(stand_in.handle), base_url="http://hub.test") as http:
        for limit in (2, 3, 4, 6):
            read = cache.prepare(latest_request("EUR_USD", limit, None))
            read.candles(http.get(read.request.path, params=dict(read.request.params)), "http://hub.test")
            assert cache.kept_candles <= 5
    assert (len(cache), cache.kept_candles) == (1, 4)  # 2 and 3 made room for 4; 6 was not kept


def test_a_client_shared_by_threads_stays_within_its_bound_and_answers_right() -> None:
    stand_in = TaggingHub()
    errors: list[BaseException] = []
    with stand_in_client(stand_in, cached_pages=3) as client:

        def read(limit: int) -> None:
            try:
                for _ in range(50):
                    got = client.get_latest_candles("EUR_USD", limit=limit)
                    assert got == [ig_candle(m) for m in range(limit)]
            except BaseException as error:  # handed to the main thread
                errors.append(error)

        threads = [threading.Thread(target=read, args=(1 + n % 5,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(client._pages) <= 3
    assert errors == []
