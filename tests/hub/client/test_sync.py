"""`HubClient` against a real hub process on loopback: reads, writes, errors and the live stream."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from client_support import T0, RunningHub, databento_candle, ig_candle

from fxhub.hub.client import HubClient, HubRejected, HubUnauthorized, HubUnreachable
from fxhub.model import Candle, Source


def _broken(candle: Candle, **changes: Any) -> Candle:
    """A candle corrupted after it was built (the model refuses to build one), as a poison pill."""
    for name, value in changes.items():
        object.__setattr__(candle, name, value)
    return candle


@pytest.fixture
def client(hub: RunningHub) -> Iterator[HubClient]:
    with HubClient(hub.url, hub.token) as hub_client:
        yield hub_client


def test_push_then_latest_returns_both_sources_oldest_first_with_extras_intact(client: HubClient) -> None:
    ig = [ig_candle(minute) for minute in range(30)]
    cme = [databento_candle(minute) for minute in range(30)]
    result = client.push_candles(ig + cme)
    assert (result.inserted, result.replaced, result.unchanged) == (60, 0, 0)

    latest = client.get_latest_candles("EUR_USD", limit=10)
    expected = sorted(ig + cme, key=lambda c: (c.timestamp, c.source.value))[-10:]
    assert latest == expected  # every field, extras included, survives the round trip
    assert latest[-1].vwap is not None or latest[-2].vwap is not None

    only_ig = client.get_latest_candles("EUR_USD", limit=5, source="IG")
    assert only_ig == ig[-5:]
    assert client.get_latest_candles("EUR_USD", limit=5, source=Source.DATABENTO) == cme[-5:]


def test_get_candles_returns_the_half_open_range_across_pages(hub: RunningHub) -> None:
    candles = [maker(minute) for minute in range(20) for maker in (databento_candle, ig_candle)]
    # A page of 3 splits minutes between pages; the cursor must neither lose nor repeat a candle.
    with HubClient(hub.url, hub.token, range_page_limit=3) as client:
        client.push_candles(candles)
        got = client.get_candles("EUR_USD", T0 + timedelta(minutes=2), T0 + timedelta(minutes=17))
        only_cme = client.get_candles("EUR_USD", T0, "2025-11-04T13:05:00Z", source="DATABENTO")
    assert got == candles[4:34]
    assert only_cme == [databento_candle(minute) for minute in range(5)]


def test_repeated_push_is_unchanged_and_a_revision_is_reported(client: HubClient) -> None:
    client.push_candles([ig_candle(0), ig_candle(1)])
    assert client.push_candles([ig_candle(0)]).unchanged == 1
    revised = dataclasses.replace(ig_candle(1), close=ig_candle(1).high)
    result = client.push_candles([revised])
    assert (result.replaced, result.replaced_keys) == (1, (("EUR_USD", Source.IG, revised.timestamp),))
    assert client.get_latest_candles("EUR_USD", limit=1) == [revised]


def test_push_above_the_batch_limit_goes_in_several_requests(client: HubClient) -> None:
    result = client.push_candles([ig_candle(minute, "GBP_USD") for minute in range(10_001)])
    assert (result.inserted, result.requests) == (10_001, 2)
    [item] = [item for item in client.inventory() if item.symbol == "GBP_USD"]
    assert (item.source, item.count, item.first, item.last) == (
        Source.IG,
        10_001,
        T0,
        T0 + timedelta(minutes=10_000),
    )


def test_health_reports_the_store(client: HubClient) -> None:
    health = client.health()
    assert health.ok
    assert health.store == "sqlite"


def test_wrong_token_is_unauthorized_and_says_where_the_token_came_from(hub: RunningHub) -> None:
    with HubClient(hub.url, "not-the-token") as client:
        with pytest.raises(HubUnauthorized, match="the token came from the `token` argument"):
            client.push_candles([ig_candle(0)])
        with pytest.raises(HubUnauthorized):
            client.get_latest_candles("EUR_USD")
        with pytest.raises(HubUnauthorized):
            client.subscribe()


def test_missing_token_is_unauthorized(hub: RunningHub) -> None:
    with HubClient(hub.url, None) as client, pytest.raises(HubUnauthorized, match="no token"):
        client.push_candles([ig_candle(0)])


def test_invalid_candle_is_rejected_with_the_hubs_reasons_and_nothing_stored(client: HubClient) -> None:
    batch = [ig_candle(0), _broken(ig_candle(1), high=1.0), ig_candle(2)]
    with pytest.raises(HubRejected) as caught:
        client.push_candles(batch)
    error = caught.value
    assert error.status_code == 422
    assert [(reason["index"], reason["field"]) for reason in error.reasons] == [(1, "high")]
    assert "candle 1: `high`" in str(error)
    assert client.get_latest_candles("EUR_USD") == []


def test_closed_port_is_unreachable_and_asks_whether_the_hub_runs(closed_port_url: str) -> None:
    with HubClient(closed_port_url, "t", timeout_s=2.0) as client:
        with pytest.raises(HubUnreachable, match=r"is `fxhub serve` running\?") as caught:
            client.get_latest_candles("EUR_USD")
        assert closed_port_url in str(caught.value)
        with pytest.raises(HubUnreachable):
            client.subscribe()


def test_subscription_receives_pushed_candles_matching_its_filters(
    hub: RunningHub, client: HubClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        everything = client.subscribe()
        cme_gbp = client.subscribe(["GBP_USD"], ["DATABENTO"])
    with everything, cme_gbp:
        client.push_candles([ig_candle(0), databento_candle(0, "GBP_USD"), ig_candle(0, "GBP_USD")])
        assert [everything.receive(timeout_s=10) for _ in range(3)] == [
            ig_candle(0),
            databento_candle(0, "GBP_USD"),
            ig_candle(0, "GBP_USD"),
        ]
        assert cme_gbp.receive(timeout_s=10) == databento_candle(0, "GBP_USD")
        client.push_candles([ig_candle(0)])  # unchanged: not streamed
        client.push_candles([databento_candle(1, "GBP_USD")])
        assert next(cme_gbp) == databento_candle(1, "GBP_USD")
        assert everything.receive(timeout_s=10) == databento_candle(1, "GBP_USD")
        with pytest.raises(TimeoutError):
            everything.receive(timeout_s=0.2)
    assert hub.token not in caplog.text
    assert list(everything) == []  # a closed subscription ends


def test_closing_the_client_ends_its_subscriptions(hub: RunningHub) -> None:
    client = HubClient(hub.url, hub.token)
    subscription = client.subscribe()
    client.close()
    assert list(subscription) == []


def test_subscription_raises_unreachable_when_the_hub_stops(hub: RunningHub) -> None:
    with HubClient(hub.url, hub.token) as client, client.subscribe() as subscription:
        hub.stop()
        with pytest.raises(HubUnreachable, match="the live stream ended"):
            subscription.receive(timeout_s=15)
