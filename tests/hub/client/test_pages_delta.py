"""Latest reads that move only what changed: the series token (`X-Fxhub-Series`) sent back as
`X-Fxhub-Since`, against a real hub process, for the sync and the async client."""

from __future__ import annotations

import dataclasses

import httpx
import orjson
import pytest
from client_support import RunningHub, databento_candle, ig_candle

from fxhub.hub.client import AsyncHubClient, HubClient, HubError
from fxhub.hub.client._pages import apply_delta
from fxhub.model import Candle


class Answers(httpx.HTTPTransport):
    """The real transport, noting each answer: status, the `delta` object if any, how many candles."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[int, dict[str, object] | None, int]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.url.path.endswith("/latest"):
            response.read()
            body = orjson.loads(response.content) if response.status_code == 200 else {}
            self.seen.append((response.status_code, body.get("delta"), len(body.get("candles", []))))
        return response


def fresh(hub: RunningHub, limit: int, source: str = "IG") -> list[Candle]:
    with HubClient(hub.url, hub.token, cached_pages=0) as plain:
        return plain.get_latest_candles("EUR_USD", limit=limit, source=source)


def test_after_a_new_minute_only_that_minute_is_sent_and_the_client_holds_the_whole_page(
    hub: RunningHub,
) -> None:
    answers = Answers()
    with HubClient(hub.url, hub.token, transport=answers) as client:
        client.push_candles([ig_candle(m) for m in range(30)])
        client.get_latest_candles("EUR_USD", limit=20, source="IG")  # loads the hub's window
        client.get_latest_candles("EUR_USD", limit=20, source="IG")  # 304, with the series token
        client.push_candles([ig_candle(30)])
        newer = client.get_latest_candles("EUR_USD", limit=20, source="IG")
        unchanged = client.get_latest_candles("EUR_USD", limit=20, source="IG")
    assert newer == unchanged == fresh(hub, 20) == [ig_candle(m) for m in range(11, 31)]
    status, delta, sent = answers.seen[2]
    assert (status, sent) == (200, 1)
    assert delta is not None
    assert (delta["first"], delta["count"]) == ("2025-11-04T13:11:00Z", 20)
    assert answers.seen[3][0] == 304


def test_revisions_inside_the_page_and_backfilled_gaps_arrive_in_their_minutes(hub: RunningHub) -> None:
    answers = Answers()
    with HubClient(hub.url, hub.token, transport=answers) as client:
        client.push_candles([ig_candle(m) for m in range(20) if m != 15])  # minute 15 missing
        for _ in range(2):
            client.get_latest_candles("EUR_USD", limit=10, source="IG")
        revised = dataclasses.replace(ig_candle(12), volume=99.0, quote_count=99)
        client.push_candles([revised, ig_candle(15), dataclasses.replace(ig_candle(2), volume=5.0)])
        got = client.get_latest_candles("EUR_USD", limit=10, source="IG")
    assert got == fresh(hub, 10)
    assert got[2] == revised
    assert [c.timestamp.minute for c in got] == list(range(10, 20))
    status, delta, sent = answers.seen[-1]
    assert (status, sent) == (200, 2)  # the revision and the filled gap; minute 2 is off the page
    assert delta is not None


def test_a_token_from_before_a_hub_restart_gets_the_whole_page(hub: RunningHub) -> None:
    answers = Answers()
    with HubClient(hub.url, hub.token, transport=answers) as client:
        client.push_candles([databento_candle(m) for m in range(8)])
        for _ in range(2):
            client.get_latest_candles("EUR_USD", limit=5, source="DATABENTO")
        hub.stop()
        hub.start()
        client.push_candles([databento_candle(8)])
        got = client.get_latest_candles("EUR_USD", limit=5, source="DATABENTO")
    assert got == fresh(hub, 5, "DATABENTO") == [databento_candle(m) for m in range(4, 9)]
    assert answers.seen[-1] == (200, None, 5)


def test_reads_of_both_sources_keep_whole_pages(hub: RunningHub) -> None:
    answers = Answers()
    with HubClient(hub.url, hub.token, transport=answers) as client:
        client.push_candles([maker(m) for m in range(6) for maker in (ig_candle, databento_candle)])
        for _ in range(2):
            client.get_latest_candles("EUR_USD", limit=4)
        client.push_candles([ig_candle(6)])
        got = client.get_latest_candles("EUR_USD", limit=4)
    assert answers.seen[-1] == (200, None, 4)
    assert got[-1] == ig_candle(6)


@pytest.mark.anyio
async def test_the_async_client_applies_deltas_too(hub: RunningHub) -> None:
    async with AsyncHubClient(hub.url, hub.token) as client:
        await client.push_candles([ig_candle(m) for m in range(12)])
        for _ in range(2):
            await client.get_latest_candles("EUR_USD", limit=6, source="IG")
        await client.push_candles([ig_candle(12), dataclasses.replace(ig_candle(9), volume=3.0)])
        got = await client.get_latest_candles("EUR_USD", limit=6, source="IG")
        held = client._pages.kept_candles
    assert got == fresh(hub, 6)
    assert got[2].volume == 3.0
    assert held == 6


def test_changes_that_do_not_make_the_page_the_hub_described_are_a_hub_error() -> None:
    held = [ig_candle(m) for m in range(3)]
    with pytest.raises(HubError, match="make a page of 3 candles where it said 4"):
        apply_delta(held, [ig_candle(3)], {"first": "2025-11-04T13:01:00Z", "count": 4}, "http://hub.test")
    page = apply_delta(held, [ig_candle(3)], {"first": "2025-11-04T13:01:00Z", "count": 3}, "http://hub.test")
    assert page == [ig_candle(m) for m in (1, 2, 3)]
