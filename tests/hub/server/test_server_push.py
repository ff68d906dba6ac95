"""POST /v1/candles: all or nothing, idempotent, every invalid candle named, size limits before parsing."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from fxhub.hub.server.errors import HubHTTPError
from fxhub.hub.server.push import parse_push, read_limited_body

MakeCandle = Callable[..., dict[str, Any]]


def body_of(*candles: dict[str, Any]) -> bytes:
    return json.dumps({"candles": list(candles)}).encode()


# --- parse_push: pure ----------------------------------------------------------------------------


def test_parse_push_returns_candles_in_order(make_candle: MakeCandle) -> None:
    candles = parse_push(body_of(make_candle(0), make_candle(1, source="DATABENTO")), 10)
    assert [(c.timestamp.minute, c.source.value) for c in candles] == [(0, "IG"), (1, "DATABENTO")]


def test_parse_push_names_every_invalid_candle_with_index_field_value_and_rule(
    make_candle: MakeCandle,
) -> None:
    body = body_of(
        make_candle(0),
        make_candle(1, high=1.0, low=1.2),
        make_candle(2),
        make_candle(3, timestamp="2025-11-04T13:03:30Z"),
        make_candle(4, volme=3),
    )
    with pytest.raises(HubHTTPError) as caught:
        parse_push(body, 10)
    error = caught.value
    assert error.status_code == 422
    assert error.error.startswith("3 of 5 candles are invalid; nothing was stored")
    assert [(d["index"], d["field"]) for d in error.detail] == [(1, "high"), (3, "timestamp"), (4, "volme")]
    high = error.detail[0]
    assert high["value"] == 1.0
    assert high["rule"] == "must be ≥ low (1.2)"
    assert "high" in high["message"]
    assert error.detail[1]["value"] == "2025-11-04T13:03:30Z"
    assert "minute start" in error.detail[1]["rule"]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"{not json", "could not be read"),
        (b'{"candles": [{"open": NaN}]}', "could not be read"),
        (b'{"candles": [{"open": 1e400}]}', "could not be read"),
        (b"[]", "exactly one key"),
        (b'{"candle": []}', "exactly one key"),
        (b'{"candles": [], "extra": 1}', "exactly one key"),
        (b'{"candles": {}}', "exactly one key"),
        (b'{"candles": []}', "1 or more candles"),
        (b'{"candles": ["\\u00e9"]}', "1 of 1 candles are invalid"),
    ],
)
def test_parse_push_refuses_malformed_bodies_with_422(body: bytes, words: str) -> None:
    with pytest.raises(HubHTTPError) as caught:
        parse_push(body, 10)
    assert caught.value.status_code == 422
    assert words in caught.value.error


def test_parse_push_refuses_too_many_candles_with_413(make_candle: MakeCandle) -> None:
    with pytest.raises(HubHTTPError) as caught:
        parse_push(body_of(*(make_candle(m) for m in range(4))), 3)
    assert caught.value.status_code == 413
    assert "at most 3 candles" in caught.value.error
    assert "has 4" in caught.value.error


def test_parse_push_reports_an_integer_too_large_for_a_float_as_a_candle_problem(
    make_candle: MakeCandle,
) -> None:
    with pytest.raises(HubHTTPError) as caught:
        parse_push(body_of(make_candle(0), make_candle(1, volume=10**400)), 10)
    assert caught.value.status_code == 422
    assert caught.value.detail[0]["index"] == 1
    assert caught.value.detail[0]["field"] == "candle"
    assert "too large" in caught.value.detail[0]["message"]


# --- read_limited_body: pure ---------------------------------------------------------------------


async def _chunks(*parts: bytes, consumed: list[bytes] | None = None) -> AsyncIterator[bytes]:
    for part in parts:
        if consumed is not None:
            consumed.append(part)
        yield part


@pytest.mark.anyio
async def test_declared_length_over_the_limit_is_refused_before_reading() -> None:
    consumed: list[bytes] = []
    with pytest.raises(HubHTTPError) as caught:
        await read_limited_body("101", _chunks(b"x" * 101, consumed=consumed), 100)
    assert caught.value.status_code == 413
    assert consumed == []


@pytest.mark.anyio
async def test_streamed_body_is_cut_off_as_soon_as_it_passes_the_limit() -> None:
    consumed: list[bytes] = []
    with pytest.raises(HubHTTPError) as caught:
        await read_limited_body(None, _chunks(b"x" * 60, b"x" * 60, b"x" * 60, consumed=consumed), 100)
    assert caught.value.status_code == 413
    assert "at least 120 bytes" in caught.value.error
    assert len(consumed) == 2


@pytest.mark.anyio
async def test_body_of_exactly_the_limit_is_read_whole() -> None:
    assert await read_limited_body("100", _chunks(b"x" * 50, b"y" * 50), 100) == b"x" * 50 + b"y" * 50


# --- the endpoint ----------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_push_twice_stores_once_and_counts_repeats_as_unchanged(
    hub: Any, auth: dict[str, str], make_candle: MakeCandle
) -> None:
    batch = {"candles": [make_candle(m) for m in range(5)]}
    first = await hub.client.post("/v1/candles", json=batch, headers=auth)
    again = await hub.client.post("/v1/candles", json=batch, headers=auth)
    assert first.json() == {"inserted": 5, "replaced": 0, "unchanged": 0, "replaced_keys": []}
    assert again.json() == {"inserted": 0, "replaced": 0, "unchanged": 5, "replaced_keys": []}
    assert hub.store.count() == 5


@pytest.mark.anyio
async def test_push_of_a_revised_minute_replaces_it_and_names_its_key(
    hub: Any, auth: dict[str, str], make_candle: MakeCandle
) -> None:
    await hub.client.post("/v1/candles", json={"candles": [make_candle(0), make_candle(1)]}, headers=auth)
    revised = make_candle(1, close=1.1009, volume=50.0)
    response = await hub.client.post(
        "/v1/candles", json={"candles": [make_candle(0), revised, make_candle(2)]}, headers=auth
    )
    assert response.status_code == 200
    assert response.json() == {
        "inserted": 1,
        "replaced": 1,
        "unchanged": 1,
        "replaced_keys": [{"symbol": "EUR_USD", "source": "IG", "timestamp": "2025-11-04T13:01:00Z"}],
    }
    stored = hub.store.latest("EUR_USD", 10)
    assert [c.close for c in stored] == [1.1005, 1.1009, 1.1005]


@pytest.mark.anyio
async def test_push_keeps_sources_apart_under_one_minute(
    hub: Any, auth: dict[str, str], make_candle: MakeCandle
) -> None:
    batch = {"candles": [make_candle(0, source="IG"), make_candle(0, source="DATABENTO")]}
    response = await hub.client.post("/v1/candles", json=batch, headers=auth)
    assert response.json()["inserted"] == 2


@pytest.mark.anyio
async def test_invalid_candle_is_422_naming_it_and_nothing_is_stored(
    hub: Any, auth: dict[str, str], make_candle: MakeCandle
) -> None:
    batch = {"candles": [make_candle(m) for m in range(20)]}
    batch["candles"][17] = make_candle(17, high=1.1, low=1.2)
    response = await hub.client.post("/v1/candles", json=batch, headers=auth)
    assert response.status_code == 422
    body = response.json()
    assert body["error"].startswith("1 of 20 candles are invalid; nothing was stored")
    assert body["detail"] == [
        {
            "index": 17,
            "field": "high",
            "value": 1.1,
            "rule": "must be ≥ low (1.2)",
            "message": body["detail"][0]["message"],
        }
    ]
    assert hub.store.count() == 0


@pytest.mark.anyio
async def test_malformed_json_is_422_in_the_error_shape(hub: Any, auth: dict[str, str]) -> None:
    response = await hub.client.post(
        "/v1/candles", content=b'{"candles": [', headers=auth | {"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert set(response.json()) == {"error", "detail"}


@pytest.mark.anyio
async def test_body_over_the_byte_limit_is_413_and_nothing_is_stored(
    open_hub: Any, auth: dict[str, str], make_candle: MakeCandle
) -> None:
    async with open_hub(max_body_bytes=2_000) as hub:
        big = {"candles": [make_candle(m) for m in range(30)]}
        response = await hub.client.post("/v1/candles", json=big, headers=auth)
        assert response.status_code == 413
        assert "at most 2,000 bytes" in response.json()["error"]
        small = await hub.client.post("/v1/candles", json={"candles": [make_candle(0)]}, headers=auth)
        assert small.status_code == 200
        assert hub.store.count() == 1


@pytest.mark.anyio
async def test_too_many_candles_is_413(open_hub: Any, auth: dict[str, str], make_candle: MakeCandle) -> None:
    async with open_hub(max_candles_per_push=3) as hub:
        response = await hub.client.post(
            "/v1/candles", json={"candles": [make_candle(m) for m in range(4)]}, headers=auth
        )
        assert response.status_code == 413
        assert hub.store.count() == 0


@pytest.mark.anyio
async def test_push_is_logged_at_info_with_counts_and_latency(
    hub: Any, auth: dict[str, str], make_candle: MakeCandle, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="fxhub.hub.server.routes")
    await hub.client.post("/v1/candles", json={"candles": [make_candle(0), make_candle(1)]}, headers=auth)
    (record,) = [r for r in caplog.records if r.getMessage().startswith("push:")]
    assert record.levelno == logging.INFO
    assert isinstance(record.args, tuple)
    assert record.args[:3] == (2, "IG", 2)
    assert " ms" in record.getMessage()
