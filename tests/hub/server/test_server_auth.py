"""Bearer tokens: writes always need one, reads need one unless the hub allows anonymous reads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from fxhub.hub.server.auth import token_matches

pytestmark = pytest.mark.anyio

READS = [
    "/v1/candles/EUR_USD/latest",
    "/v1/candles/EUR_USD?start=2025-11-04T13:00:00Z&end=2025-11-05T00:00:00Z",
    "/v1/inventory",
]


def test_token_matches_only_the_exact_token() -> None:
    assert token_matches("abc", "abc")
    assert not token_matches("abd", "abc")
    assert not token_matches("ab", "abc")
    assert not token_matches(None, "abc")
    assert not token_matches("", "abc")


@pytest.mark.parametrize("path", READS)
async def test_read_without_token_is_401_with_a_bearer_challenge(hub: Any, path: str) -> None:
    response = await hub.client.get(path)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    body = response.json()
    assert set(body) == {"error", "detail"}
    assert "Authorization: Bearer" in body["error"]


@pytest.mark.parametrize("path", READS)
async def test_read_with_wrong_token_is_401(hub: Any, path: str) -> None:
    response = await hub.client.get(path, headers={"Authorization": "Bearer not-the-token"})
    assert response.status_code == 401
    assert "invalid_token" in response.headers["www-authenticate"]
    assert "not this hub's token" in response.json()["error"]


@pytest.mark.parametrize("path", READS)
async def test_read_with_right_token_is_200(hub: Any, auth: dict[str, str], path: str) -> None:
    response = await hub.client.get(path, headers=auth)
    assert response.status_code == 200, response.text


async def test_scheme_other_than_bearer_counts_as_no_token(hub: Any, token: str) -> None:
    response = await hub.client.get("/v1/inventory", headers={"Authorization": f"Basic {token}"})
    assert response.status_code == 401


async def test_bearer_scheme_is_case_insensitive(hub: Any, token: str) -> None:
    response = await hub.client.get("/v1/inventory", headers={"Authorization": f"bearer {token}"})
    assert response.status_code == 200


@pytest.mark.parametrize("path", READS)
async def test_anonymous_reads_flag_serves_reads_without_token(open_hub: Any, path: str) -> None:
    async with open_hub(allow_anonymous_reads=True) as hub:
        assert (await hub.client.get(path)).status_code == 200


async def test_writes_need_the_token_even_with_anonymous_reads(
    open_hub: Any, make_candle: Callable[..., dict[str, Any]], auth: dict[str, str]
) -> None:
    body = {"candles": [make_candle()]}
    async with open_hub(allow_anonymous_reads=True) as hub:
        missing = await hub.client.post("/v1/candles", json=body)
        wrong = await hub.client.post("/v1/candles", json=body, headers={"Authorization": "Bearer x"})
        right = await hub.client.post("/v1/candles", json=body, headers=auth)
        assert (missing.status_code, wrong.status_code, right.status_code) == (401, 401, 200)
        assert hub.store.count() == 1


async def test_unauthorised_push_stores_nothing(hub: Any, make_candle: Callable[..., dict[str, Any]]) -> None:
    response = await hub.client.post("/v1/candles", json={"candles": [make_candle()]})
    assert response.status_code == 401
    assert hub.store.count() == 0


@pytest.mark.parametrize("path", ["/healthz", "/metrics", "/openapi.json"])
async def test_health_metrics_and_openapi_need_no_token(hub: Any, path: str) -> None:
    assert (await hub.client.get(path)).status_code == 200
