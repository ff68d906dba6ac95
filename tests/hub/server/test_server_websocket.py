"""WS /v1/stream against the app served by uvicorn on loopback, read with the `websockets` client."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

MakeCandle = Callable[..., dict[str, Any]]
RECV_TIMEOUT_SECONDS = 10.0


@contextmanager
def subscribe(url: str, *, sock: socket.socket | None = None, **options: Any) -> Iterator[ClientConnection]:
    with connect(url, sock=sock, proxy=None, compression=None, open_timeout=10, **options) as ws:
        yield ws


def receive_json(ws: ClientConnection) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(ws.recv(timeout=RECV_TIMEOUT_SECONDS))
    return message


def push(url: str, auth: dict[str, str], candles: list[dict[str, Any]]) -> dict[str, Any]:
    response = httpx.post(f"{url}/v1/candles", json={"candles": candles}, headers=auth, timeout=30)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def metric(url: str, name: str) -> float:
    text = httpx.get(f"{url}/metrics").text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                return float(sample.value)
    raise AssertionError(f"{name} not in /metrics")


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def test_subscriber_gets_pushed_candles_filtered_by_symbol_and_source(
    serve_hub: Any, auth: dict[str, str], token: str, make_candle: MakeCandle
) -> None:
    hub = serve_hub()
    with subscribe(f"{hub.ws_url}/v1/stream?symbols=EUR_USD,GBP_USD&sources=DATABENTO&token={token}") as ws:
        wait_for(lambda: metric(hub.url, "fxhub_stream_subscribers") == 1)
        push(
            hub.url,
            auth,
            [
                make_candle(0, symbol="EUR_USD", source="IG"),
                make_candle(0, symbol="EUR_USD", source="DATABENTO"),
                make_candle(0, symbol="USD_JPY", source="DATABENTO"),
                make_candle(0, symbol="GBP_USD", source="DATABENTO"),
            ],
        )
        first, second = receive_json(ws), receive_json(ws)
        assert first == {
            "type": "candle",
            "candle": make_candle(0, symbol="EUR_USD", source="DATABENTO"),
            "revised": False,
        }
        assert (second["candle"]["symbol"], second["candle"]["source"]) == ("GBP_USD", "DATABENTO")

        # A repeat is not news; a revision is, flagged as such.
        push(hub.url, auth, [make_candle(0, symbol="EUR_USD", source="DATABENTO")])
        push(hub.url, auth, [make_candle(0, symbol="EUR_USD", source="DATABENTO", close=1.1001)])
        third = receive_json(ws)
        assert third["revised"] is True
        assert third["candle"]["close"] == 1.1001
    wait_for(lambda: metric(hub.url, "fxhub_stream_subscribers") == 0)


def test_bearer_header_works_as_well_as_the_query_token(
    serve_hub: Any, auth: dict[str, str], make_candle: MakeCandle
) -> None:
    hub = serve_hub()
    with subscribe(f"{hub.ws_url}/v1/stream", additional_headers=auth) as ws:
        wait_for(lambda: metric(hub.url, "fxhub_stream_subscribers") == 1)
        push(hub.url, auth, [make_candle(0)])
        assert receive_json(ws)["type"] == "candle"


@pytest.mark.parametrize("query", ["", "?token=wrong"])
def test_handshake_without_the_right_token_is_refused_with_401(serve_hub: Any, query: str) -> None:
    hub = serve_hub()
    with pytest.raises(InvalidStatus) as caught, subscribe(f"{hub.ws_url}/v1/stream{query}"):
        pass
    response = caught.value.response
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert set(json.loads(response.body)) == {"error", "detail"}


def test_anonymous_reads_flag_lets_a_stream_open_without_a_token(serve_hub: Any) -> None:
    hub = serve_hub(allow_anonymous_reads=True)
    with subscribe(f"{hub.ws_url}/v1/stream"):
        wait_for(lambda: metric(hub.url, "fxhub_stream_subscribers") == 1)


@pytest.mark.parametrize(
    ("query", "named"), [("sources=CME", "CME"), ("symbols=eur_usd", "eur_usd"), ("symbol=EUR_USD", "symbol")]
)
def test_bad_filter_or_unknown_parameter_is_refused_with_422(
    serve_hub: Any, token: str, query: str, named: str
) -> None:
    hub = serve_hub()
    with (
        pytest.raises(InvalidStatus) as caught,
        subscribe(f"{hub.ws_url}/v1/stream?{query}&token={token}"),
    ):
        pass
    assert caught.value.response.status_code == 422
    assert named in json.loads(caught.value.response.body)["error"]


def test_slow_reader_delays_neither_pushes_nor_a_fast_reader_and_is_told_what_it_lost(
    serve_hub: Any, auth: dict[str, str], token: str, make_candle: MakeCandle
) -> None:
    hub = serve_hub(stream_queue_size=200)
    url = f"{hub.ws_url}/v1/stream?token={token}"
    # The slow reader's socket has a tiny receive buffer and its client stops reading after 1 frame.
    # The kernel still lets the hub's side buffer ~4 MB, so the frames are made big (a 2 kB
    # `instrument`) to fill that, then the hub's own queue, with 4,000 candles (~9 MB).
    slow_sock = socket.socket()
    slow_sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow_sock.connect(("127.0.0.1", hub.port))
    batches, per_batch = 4, 1000
    total = batches * per_batch
    padding = "6EZ5-" + "x" * 2000
    with subscribe(url, sock=slow_sock, max_queue=1) as slow, subscribe(url, max_queue=None) as fast:
        wait_for(lambda: metric(hub.url, "fxhub_stream_subscribers") == 2)
        for batch in range(batches):
            began = time.monotonic()
            minutes = range(batch * per_batch, (batch + 1) * per_batch)
            candles = [make_candle(minute, instrument=padding) for minute in minutes]
            assert push(hub.url, auth, candles)["inserted"] == per_batch
            assert time.monotonic() - began < 10  # never waits for the slow reader

        fast_got = [receive_json(fast) for _ in range(total)]
        assert [m["type"] for m in fast_got] == ["candle"] * total
        assert [m["candle"]["timestamp"] for m in fast_got] == [
            make_candle(m)["timestamp"] for m in range(total)
        ]

        # Now the slow reader reads: fewer candles, and `lagged` notices that account for the rest.
        wait_for(lambda: metric(hub.url, "fxhub_stream_dropped_total") > 0)
        got: list[dict[str, Any]] = []
        while not got or got[-1].get("candle", {}).get("timestamp") != make_candle(total - 1)["timestamp"]:
            got.append(receive_json(slow))
        lagged = [m["dropped"] for m in got if m["type"] == "lagged"]
        candles_seen = [m["candle"]["timestamp"] for m in got if m["type"] == "candle"]
        assert lagged
        assert all(n > 0 for n in lagged)
        assert len(candles_seen) + sum(lagged) == total
        assert candles_seen == sorted(candles_seen)
        assert metric(hub.url, "fxhub_stream_dropped_total") == sum(lagged)
