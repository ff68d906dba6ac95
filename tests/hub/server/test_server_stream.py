"""The Broadcaster: filtered fan-out where a reader that falls behind loses its oldest messages, is told
how many, and never holds up the publisher or the other readers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import pytest

from fxhub.errors import ValidationError
from fxhub.hub.server.stream import Broadcaster, StreamFilter, Subscription
from fxhub.model import Candle, Source, VolumeType

T0 = datetime(2025, 11, 4, 13, 0, tzinfo=UTC)


def candle(
    minute: int = 0, symbol: str = "EUR_USD", source: Source = Source.IG, close: float = 1.1
) -> Candle:
    return Candle(
        symbol=symbol,
        timestamp=T0 + timedelta(minutes=minute),
        open=1.1,
        high=1.2,
        low=1.0,
        close=close,
        volume=5.0,
        source=source,
        volume_type=VolumeType.TICK if source is Source.IG else VolumeType.REAL,
    )


async def drain(subscription: Subscription) -> list[dict[str, Any]]:
    """Every message buffered now (the subscription is not closed, so stop when it would wait)."""
    out: list[dict[str, Any]] = []
    while subscription.pending():
        text = await subscription.next()
        assert text is not None
        out.append(json.loads(text))
    return out


def test_filter_parse_reads_comma_separated_symbols_and_sources() -> None:
    parsed = StreamFilter.parse("EUR_USD, GBP_USD,", "ig,DATABENTO")
    assert parsed == StreamFilter(frozenset({"EUR_USD", "GBP_USD"}), frozenset({Source.IG, Source.DATABENTO}))
    assert StreamFilter.parse(None, "") == StreamFilter()


def test_filter_parse_refuses_an_unknown_source_naming_it() -> None:
    with pytest.raises(ValidationError) as caught:
        StreamFilter.parse(None, "IG,CME")
    assert (caught.value.field, caught.value.value) == ("sources", "CME")


@pytest.mark.parametrize("symbols", ["eur_usd", "EUR-USD", "EUR_USD,gbp"])
def test_filter_parse_refuses_a_symbol_candles_cannot_have(symbols: str) -> None:
    with pytest.raises(ValidationError) as caught:
        StreamFilter.parse(symbols, None)
    assert caught.value.field == "symbols"


def test_empty_filter_matches_everything() -> None:
    assert StreamFilter().matches(candle(symbol="USD_JPY", source=Source.DATABENTO))


@pytest.mark.anyio
async def test_subscriber_gets_only_candles_of_its_symbols_and_sources() -> None:
    broadcaster = Broadcaster(100)
    wanted = StreamFilter.parse("EUR_USD,GBP_USD", "DATABENTO")
    with broadcaster.subscribe(wanted) as subscription, broadcaster.subscribe(StreamFilter()) as everything:
        batch = [
            candle(0, "EUR_USD", Source.DATABENTO),
            candle(0, "EUR_USD", Source.IG),
            candle(0, "USD_JPY", Source.DATABENTO),
            candle(0, "GBP_USD", Source.DATABENTO),
        ]
        assert broadcaster.publish(batch) == 2 + 4
        got = await drain(subscription)
        assert [(m["candle"]["symbol"], m["candle"]["source"]) for m in got] == [
            ("EUR_USD", "DATABENTO"),
            ("GBP_USD", "DATABENTO"),
        ]
        assert got[0] == {"type": "candle", "candle": batch[0].to_dict(), "revised": False}
        assert len(await drain(everything)) == 4


@pytest.mark.anyio
async def test_revised_candles_are_flagged() -> None:
    broadcaster = Broadcaster(10)
    with broadcaster.subscribe(StreamFilter()) as subscription:
        revised = candle(1, close=1.15)
        broadcaster.publish([candle(0), revised], revised_keys=[revised.key])
        assert [m["revised"] for m in await drain(subscription)] == [False, True]


@pytest.mark.anyio
async def test_slow_reader_loses_the_oldest_is_told_how_many_and_the_fast_reader_loses_nothing() -> None:
    drops: list[int] = []
    broadcaster = Broadcaster(1000, on_drop=drops.append)
    fast_got: list[dict[str, Any]] = []
    with broadcaster.subscribe(StreamFilter()) as slow, broadcaster.subscribe(StreamFilter()) as fast:

        async def read_fast() -> None:
            while len(fast_got) < 1500:
                text = await fast.next()
                assert text is not None
                fast_got.append(json.loads(text))

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(read_fast)
            for minute in range(1500):
                broadcaster.publish([candle(minute)])  # never waits, whoever reads or not
                if minute % 100 == 0:
                    await anyio.sleep(0)  # let the fast reader run, as the event loop would
        assert slow.pending() == 1 + 1000
        slow_got = await drain(slow)

    every_minute = [(T0 + timedelta(minutes=m)).strftime("%Y-%m-%dT%H:%M:%SZ") for m in range(1500)]
    assert [m["candle"]["timestamp"] for m in fast_got] == every_minute
    assert fast.dropped_total == 0
    assert slow_got[0] == {"type": "lagged", "dropped": 500}
    assert [m["candle"]["timestamp"] for m in slow_got[1:]] == every_minute[500:]
    assert sum(drops) == 500
    assert slow.dropped_total == 500


@pytest.mark.anyio
async def test_lagged_count_restarts_after_it_was_reported() -> None:
    broadcaster = Broadcaster(2)
    with broadcaster.subscribe(StreamFilter()) as subscription:
        broadcaster.publish([candle(m) for m in range(5)])
        first = await drain(subscription)
        broadcaster.publish([candle(m) for m in range(5, 8)])
        second = await drain(subscription)
    assert [m["type"] for m in first] == ["lagged", "candle", "candle"]
    assert first[0]["dropped"] == 3
    assert second[0] == {"type": "lagged", "dropped": 1}


@pytest.mark.anyio
async def test_close_ends_every_subscription_after_what_is_buffered() -> None:
    broadcaster = Broadcaster(10)
    with broadcaster.subscribe(StreamFilter()) as subscription:
        broadcaster.publish([candle(0)])
        broadcaster.close()
        assert await subscription.next() is not None
        assert await subscription.next() is None
        with broadcaster.subscribe(StreamFilter()) as late:
            assert await late.next() is None
    assert len(broadcaster) == 0


@pytest.mark.anyio
async def test_waiting_reader_wakes_when_a_candle_is_published() -> None:
    broadcaster = Broadcaster(10)
    with broadcaster.subscribe(StreamFilter()) as subscription:
        got: list[str | None] = []

        async def wait_for_one() -> None:
            got.append(await subscription.next())

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(wait_for_one)
            await anyio.sleep(0.01)
            assert got == []
            broadcaster.publish([candle(0)])
        assert len(got) == 1


def test_publish_without_subscribers_encodes_nothing() -> None:
    assert Broadcaster(10).publish([candle(0)]) == 0


def test_queue_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="queue_size"):
        Broadcaster(0)


@pytest.mark.anyio
async def test_paced_publish_of_a_burst_larger_than_a_queue_reaches_a_reader_that_keeps_up() -> None:
    broadcaster = Broadcaster(10)
    got: list[str] = []
    with broadcaster.subscribe(StreamFilter()) as reader:

        async def keep_up() -> None:
            while len(got) < 95:
                text = await reader.next()
                assert text is not None
                got.append(text)

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(keep_up)
            await anyio.sleep(0)
            assert await broadcaster.publish_paced([candle(m) for m in range(95)]) == 95
    assert reader.dropped_total == 0
    assert [json.loads(text)["type"] for text in got] == ["candle"] * 95
