"""The outbox against a real hub: candles queued while the hub is down arrive, once, after it starts."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from client_support import RunningHub, databento_candle, ig_candle

from fxhub.hub.client import HubClient, Outbox, OutboxPusher
from fxhub.model import Source


def test_candles_queued_while_the_hub_is_down_are_all_stored_once_after_it_starts(
    hub: RunningHub, tmp_path: Path
) -> None:
    hub.stop()  # the hub is down; its port and token stay the same for the next start
    queued = [maker(minute) for minute in range(120) for maker in (ig_candle, databento_candle)]
    with HubClient(hub.url, hub.token, timeout_s=2.0) as client, Outbox(tmp_path / "outbox.sqlite") as outbox:
        outbox.put(queued[:100])
        pusher = OutboxPusher(outbox, client, batch_size=50)
        assert pusher.drain_once() == 0  # unreachable: kept, backing off
        assert pusher.stats.retries == 1
        outbox.put(queued[100:])

        hub.start()
        pushed = []
        while (count := pusher.drain_once()) > 0:
            pushed.append(count)
        assert pushed == [50, 50, 50, 50, 40]
        assert outbox.pending() == 0

        stored = client.get_candles(
            "EUR_USD", queued[0].timestamp, queued[-1].timestamp + timedelta(minutes=1)
        )
        counts = {item.source: item.count for item in client.inventory()}
    assert stored == sorted(queued, key=lambda c: (c.timestamp, c.source.value))
    assert counts == {Source.IG: 120, Source.DATABENTO: 120}


def test_candles_pushed_again_after_a_crash_before_delete_are_stored_once(
    hub: RunningHub, tmp_path: Path
) -> None:
    path = tmp_path / "outbox.sqlite"
    candles = [ig_candle(minute) for minute in range(30)]
    with HubClient(hub.url, hub.token) as client:
        with Outbox(path) as outbox:
            outbox.put(candles)
            client.push_candles(candles[:10])  # pushed, then the collector died before deleting the rows
        with Outbox(path) as reopened:
            pusher = OutboxPusher(reopened, client)
            assert pusher.drain_once() == 30
        [item] = client.inventory()
        assert item.count == 30
        assert client.get_latest_candles("EUR_USD", limit=100) == candles


def test_background_pusher_drains_into_the_hub_while_the_collector_keeps_putting(
    hub: RunningHub, tmp_path: Path
) -> None:
    with HubClient(hub.url, hub.token) as client, Outbox(tmp_path / "outbox.sqlite") as outbox:
        pusher = OutboxPusher(outbox, client, batch_size=40)
        pusher.start()
        for first in range(0, 500, 10):
            outbox.put([databento_candle(minute) for minute in range(first, first + 10)])
        assert pusher.stop(drain_timeout_s=30) == 0
        assert pusher.stats.pushed == 500
        assert client.get_latest_candles("EUR_USD", limit=500) == [databento_candle(m) for m in range(500)]
