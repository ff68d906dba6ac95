"""`AsyncHubClient` against a real hub process: the same answers as the sync client, awaited."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from client_support import T0, RunningHub, databento_candle, ig_candle

from fxhub.hub.client import AsyncHubClient, HubRejected, HubUnauthorized, HubUnreachable
from fxhub.model import Candle, Source

pytestmark = pytest.mark.anyio


async def test_push_latest_range_and_inventory_round_trip(hub: RunningHub) -> None:
    candles = [maker(minute) for minute in range(12) for maker in (databento_candle, ig_candle)]
    async with AsyncHubClient(hub.url, hub.token, range_page_limit=5) as client:
        result = await client.push_candles(candles)
        latest = await client.get_latest_candles("EUR_USD", limit=4)
        only_ig = await client.get_latest_candles("EUR_USD", limit=3, source=Source.IG)
        window = await client.get_candles("EUR_USD", T0 + timedelta(minutes=1), T0 + timedelta(minutes=10))
        inventory = await client.inventory()
        health = await client.health()
    assert (result.inserted, result.requests) == (24, 1)
    assert latest == candles[-4:]
    assert only_ig == [ig_candle(minute) for minute in (9, 10, 11)]
    assert window == candles[2:20]
    assert [(item.symbol, item.source, item.count) for item in inventory] == [
        ("EUR_USD", Source.DATABENTO, 12),
        ("EUR_USD", Source.IG, 12),
    ]
    assert health.ok


async def test_errors_match_the_sync_client(hub: RunningHub, closed_port_url: str) -> None:
    poison = ig_candle(1)
    object.__setattr__(poison, "low", 2.0)  # corrupted after construction: only the hub can refuse it
    async with AsyncHubClient(hub.url, hub.token) as client:
        with pytest.raises(HubRejected) as caught:
            await client.push_candles([ig_candle(0), poison])
        assert caught.value.reasons[0]["index"] == 1
    async with AsyncHubClient(hub.url, "wrong") as client:
        with pytest.raises(HubUnauthorized):
            await client.get_latest_candles("EUR_USD")
        with pytest.raises(HubUnauthorized):
            await client.subscribe().open()
    async with AsyncHubClient(closed_port_url, "t", timeout_s=2.0) as client:
        with pytest.raises(HubUnreachable, match="is `fxhub serve` running"):
            await client.push_candles([ig_candle(0)])
        with pytest.raises(HubUnreachable):
            await client.subscribe().open()


async def test_async_subscription_receives_pushed_candles(hub: RunningHub) -> None:
    async with (
        AsyncHubClient(hub.url, hub.token) as client,
        client.subscribe(pairs="EUR_USD", sources=["DATABENTO"]) as subscription,
    ):
        pushed = [databento_candle(0), ig_candle(0), databento_candle(1, "GBP_USD"), databento_candle(1)]
        await client.push_candles(pushed)
        got = [await subscription.receive(timeout_s=10) for _ in range(2)]
        assert got == [databento_candle(0), databento_candle(1)]
        with pytest.raises(TimeoutError):
            await subscription.receive(timeout_s=0.2)
        await client.push_candles([databento_candle(2)])
        async for candle in subscription:
            assert candle == databento_candle(2)
            break


async def test_async_for_connects_lazily_and_ends_when_the_client_closes(hub: RunningHub) -> None:
    client = AsyncHubClient(hub.url, hub.token)
    subscription = client.subscribe()
    received: list[Candle] = []

    async def read_all() -> None:
        async for candle in subscription:
            received.append(candle)

    reader = asyncio.create_task(read_all())
    # Push until the lazily opened stream delivers one: the reader connects on its first step.
    for minute in range(200):
        await client.push_candles([ig_candle(minute)])
        await asyncio.sleep(0.01)
        if received:
            break
    await client.aclose()
    await asyncio.wait_for(reader, 10)
    assert received
    assert received[0].source is Source.IG
