"""Request building and response reading shared by both clients, driven through httpx's MockTransport.

What needs the real hub (auth, stored data, the stream) is in test_sync.py and test_async.py.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime

import httpx
import pytest
from client_support import FakeHub, databento_candle, ig_candle

from fxhub.errors import ValidationError
from fxhub.hub.client import HubClient, HubError, HubRejected, HubServerError, PushResult
from fxhub.hub.client import _protocol as proto
from fxhub.hub.client._stream import WS_LOGGER, stream_url
from fxhub.settings import Secret


def _client(fake_hub: FakeHub) -> HubClient:
    return HubClient("http://hub.test/", "s3cret-token-value", transport=httpx.MockTransport(fake_hub.handle))


def test_push_of_25000_candles_goes_as_three_requests_in_order(fake_hub: FakeHub) -> None:
    candles = [ig_candle(minute) for minute in range(25_000)]
    with _client(fake_hub) as client:
        result = client.push_candles(candles)
    assert [len(batch) for batch in fake_hub.pushes] == [10_000, 10_000, 5_000]
    assert [row["timestamp"] for row in fake_hub.pushed] == [c.to_dict()["timestamp"] for c in candles]
    assert result == PushResult(inserted=25_000, requests=3)


def test_push_splits_by_body_size_before_the_hub_limit(
    fake_hub: FakeHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    def size(row: dict[str, object]) -> int:
        return len(json.dumps(row, separators=(",", ":"))) + 1

    candles = [databento_candle(minute) for minute in range(25)]
    limit = 10 * max(size(candle.to_dict()) for candle in candles)
    monkeypatch.setattr(proto, "MAX_PUSH_BYTES", limit)
    with _client(fake_hub) as client:
        assert client.push_candles(candles).requests == len(fake_hub.pushes) >= 3
    assert all(sum(size(row) for row in batch) <= limit for batch in fake_hub.pushes)
    assert fake_hub.pushed == [candle.to_dict() for candle in candles]


def test_push_of_nothing_sends_nothing(fake_hub: FakeHub) -> None:
    with _client(fake_hub) as client:
        assert client.push_candles([]) == PushResult()
    assert fake_hub.pushes == []


def test_rejection_of_a_later_request_counts_reasons_from_the_start_of_the_input(fake_hub: FakeHub) -> None:
    reason = {"index": 3, "field": "high", "value": 1.1, "rule": "must be ≥ low (1.2)", "message": "x"}

    def second_fails(request: httpx.Request) -> httpx.Response:
        if fake_hub.pushes:
            return httpx.Response(422, json={"error": "1 of 5 candles are invalid", "detail": [reason]})
        return fake_hub.handle(request)

    transport = httpx.MockTransport(second_fails)
    with (
        HubClient("http://hub.test", "t", transport=transport) as client,
        pytest.raises(HubRejected) as caught,
    ):
        client.push_candles([ig_candle(minute) for minute in range(10_005)])
    error = caught.value
    assert (error.status_code, error.stored_before) == (422, 10_000)
    assert error.reasons[0]["index"] == 10_003
    assert "candle 10003: `high` must be ≥ low (1.2), was 1.1" in str(error)
    assert "the first 10000 candles were stored" in str(error)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda c: c.get_latest_candles("eur_usd"), "pair"),
        (lambda c: c.get_latest_candles("EUR/USD"), "pair"),
        (lambda c: c.get_latest_candles("EUR_USD", limit=0), "limit"),
        (lambda c: c.get_latest_candles("EUR_USD", limit=10_001), "limit"),
        (lambda c: c.get_latest_candles("EUR_USD", source="ig"), "source"),
        (lambda c: c.get_candles("EUR_USD", datetime(2025, 11, 4), "2025-11-05T00:00:00Z"), "start"),
        (lambda c: c.get_candles("EUR_USD", "2025-11-05T00:00:00Z", "2025-11-04T00:00:00Z"), "end"),
        (lambda c: c.push_candles([ig_candle(0), {"symbol": "EUR_USD"}]), "candles[1]"),
        (lambda c: c.subscribe(["EUR_USD"], ["CME"]), "source"),
    ],
)
def test_bad_arguments_are_refused_before_anything_is_sent(call: object, field: str) -> None:
    def no_request(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"sent {request.method} {request.url}")

    transport = httpx.MockTransport(no_request)
    with (
        HubClient("http://hub.test", "t", transport=transport) as client,
        pytest.raises(ValidationError) as caught,
    ):
        call(client)  # type: ignore[operator]
    assert caught.value.field == field
    assert "was" in str(caught.value)


def test_source_may_be_given_as_text_or_enum(fake_hub: FakeHub) -> None:
    seen: list[str] = []

    def latest(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url.params.get("source")))
        return httpx.Response(200, json={"symbol": "EUR_USD", "source": None, "candles": []})

    with HubClient("http://hub.test", "t", transport=httpx.MockTransport(latest)) as client:
        client.get_latest_candles("EUR_USD", source="DATABENTO")
        client.get_latest_candles("EUR_USD", source=databento_candle(0).source)
    assert seen == ["DATABENTO", "DATABENTO"]


@pytest.mark.parametrize(
    ("status", "body", "kind", "text"),
    [
        (500, {"error": "the hub failed on GET", "detail": None}, HubServerError, "retry later"),
        (404, {"error": "there is no /v1/x", "detail": None}, HubError, "points at an fxhub hub"),
        (200, {"unexpected": True}, HubError, "malformed candle list"),
    ],
)
def test_unexpected_answers_raise_hub_errors_that_say_what_to_do(
    status: int, body: dict[str, object], kind: type[HubError], text: str
) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(status, json=body))
    with HubClient("http://hub.test", "t", transport=transport) as client, pytest.raises(kind, match=text):
        client.get_latest_candles("EUR_USD")


def test_token_is_sent_as_bearer_header_and_never_shown(fake_hub: FakeHub) -> None:
    headers: list[str] = []

    def record(request: httpx.Request) -> httpx.Response:
        headers.append(request.headers["Authorization"])
        assert "s3cret" not in str(request.url)
        return fake_hub.handle(request)

    with HubClient(
        "http://hub.test", Secret("s3cret-token-value"), transport=httpx.MockTransport(record)
    ) as c:
        c.push_candles([ig_candle(0)])
        shown = f"{c!r} {c} {c._http.headers!r}"
    assert headers == ["Bearer s3cret-token-value"]
    assert "s3cret" not in shown


def test_websocket_handshake_log_masks_the_authorization_header(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger=WS_LOGGER.name):
        WS_LOGGER.debug("> %s: %s", "Authorization", "Bearer s3cret-token-value")
        WS_LOGGER.debug("> %s: %s", "Host", "127.0.0.1")
    assert "s3cret" not in caplog.text
    assert "Authorization: [secure]" in caplog.text
    assert "Host: 127.0.0.1" in caplog.text


def test_stream_url_carries_filters_and_switches_scheme() -> None:
    assert stream_url("http://127.0.0.1:50000", None, None) == "ws://127.0.0.1:50000/v1/stream"
    assert (
        stream_url("https://hub.example:443", ["EUR_USD", "GBP_USD"], ["IG"])
        == "wss://hub.example:443/v1/stream?symbols=EUR_USD,GBP_USD&sources=IG"
    )


@pytest.mark.parametrize("url", ["127.0.0.1:50000", "ftp://hub", "http://hub/v1", "http://u:p@hub", ""])
def test_client_refuses_a_url_that_is_not_a_hub_address(url: str) -> None:
    with pytest.raises(ValidationError, match=r"http\(s\)://host\[:port\]"):
        HubClient(url, None)
