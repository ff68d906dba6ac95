"""Conditional candle reads: an `ETag` that is a hash of the page's bytes, and `304 Not Modified` for an
`If-None-Match` naming it, through the hot window and straight from the database alike."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from fxhub.hub.store import HotWindowStore, SqliteStore

pytestmark = pytest.mark.anyio

MakeCandle = Callable[..., dict[str, Any]]
LATEST = "/v1/candles/EUR_USD/latest?limit=3"
RANGE = "/v1/candles/EUR_USD?start=2025-11-04T13:00:00Z&end=2025-11-04T14:00:00Z"


@pytest.fixture(params=["hot window", "database"])
def opened(request: pytest.FixtureRequest, open_hub: Any, store: SqliteStore) -> Callable[[], Any]:
    """Opens the app with the hub's default hot window in front of the store, or with none
    (`--hot-window 0`, as hubs sharing one PostgreSQL database run)."""

    @asynccontextmanager
    async def open_() -> AsyncIterator[Any]:
        used = HotWindowStore(store) if request.param == "hot window" else store
        async with open_hub(used) as hub:
            yield hub

    return open_


async def push(hub: Any, auth: dict[str, str], *candles: dict[str, Any]) -> None:
    response = await hub.client.post("/v1/candles", json={"candles": list(candles)}, headers=auth)
    assert response.status_code == 200, response.text


async def get(hub: Any, auth: dict[str, str], url: str, tag: str | None = None) -> Any:
    headers = auth if tag is None else auth | {"If-None-Match": tag}
    return await hub.client.get(url, headers=headers)


@pytest.mark.parametrize("url", [LATEST, RANGE])
async def test_a_page_carries_the_hash_of_its_bytes_and_its_tag_gets_304_without_a_body(
    opened: Any, auth: dict[str, str], make_candle: MakeCandle, url: str
) -> None:
    async with opened() as hub:
        await push(hub, auth, *(make_candle(m, source=s) for m in range(5) for s in ("IG", "DATABENTO")))
        first = await get(hub, auth, url)
        assert first.status_code == 200
        tag = first.headers["etag"]
        assert tag == f'"{hashlib.sha256(first.content).hexdigest()[:32]}"'  # strong: no W/
        assert first.headers["cache-control"] == "no-cache"

        again = await get(hub, auth, url, tag)
        assert again.status_code == 304
        assert again.content == b""
        assert (again.headers["etag"], again.headers["cache-control"]) == (tag, "no-cache")


async def test_a_new_minute_and_a_revised_older_minute_each_change_the_tag(
    opened: Any, auth: dict[str, str], make_candle: MakeCandle
) -> None:
    async with opened() as hub:
        await push(hub, auth, *(make_candle(m) for m in range(5)))
        before = await get(hub, auth, LATEST)
        await push(hub, auth, make_candle(5))  # a new minute
        pushed = await get(hub, auth, LATEST, before.headers["etag"])
        assert pushed.status_code == 200
        assert pushed.json()["candles"][-1]["timestamp"] == "2025-11-04T13:05:00Z"

        # A backfill replaces minute 3, an incomplete one, older than the newest: same keys, new values.
        await push(hub, auth, make_candle(3, complete=False))
        unrevised = await get(hub, auth, LATEST)
        revised = make_candle(3, volume=57.0, complete=True)
        await push(hub, auth, revised)
        answer = await get(hub, auth, LATEST, unrevised.headers["etag"])
        assert answer.status_code == 200
        assert answer.json()["candles"][0] == revised
        assert len({before.headers["etag"], pushed.headers["etag"], answer.headers["etag"]}) == 3
        assert (await get(hub, auth, LATEST, answer.headers["etag"])).status_code == 304


@pytest.mark.parametrize(
    "if_none_match",
    ['"0123456789abcdef0123456789abcdef"', "garbage", '""', 'W/"x", "y"'],
)
async def test_a_tag_the_page_does_not_have_gets_the_full_page(
    opened: Any, auth: dict[str, str], make_candle: MakeCandle, if_none_match: str
) -> None:
    async with opened() as hub:
        await push(hub, auth, *(make_candle(m) for m in range(5)))
        full = await get(hub, auth, LATEST)
        answer = await get(hub, auth, LATEST, if_none_match)
        assert answer.status_code == 200
        assert answer.content == full.content


@pytest.mark.parametrize("form", ["{tag}", '"other", {tag}', "W/{tag}", " {tag} ", "*"])
async def test_if_none_match_lists_and_weak_forms_name_the_page(
    hub: Any, auth: dict[str, str], make_candle: MakeCandle, form: str
) -> None:
    await push(hub, auth, *(make_candle(m) for m in range(5)))
    tag = (await get(hub, auth, LATEST)).headers["etag"]
    assert (await get(hub, auth, LATEST, form.format(tag=tag))).status_code == 304


async def test_the_tag_is_the_same_from_memory_and_from_the_database(
    open_hub: Any, store: SqliteStore, auth: dict[str, str], make_candle: MakeCandle
) -> None:
    # Equal bytes, equal tags: a tag from another hub process, or from before a restart, is honoured
    # exactly when that hub would send the same page.
    async with open_hub(store) as plain:
        await push(plain, auth, *(make_candle(m, source=s) for m in range(5) for s in ("IG", "DATABENTO")))
        from_database = (await get(plain, auth, LATEST)).headers["etag"]
    async with open_hub(HotWindowStore(store)) as hot:
        await get(hot, auth, LATEST)  # loads the windows
        kept = await get(hot, auth, LATEST, from_database)
        assert kept.status_code == 304
        assert kept.headers["etag"] == from_database


async def test_a_tag_without_the_token_is_401_not_304(
    hub: Any, auth: dict[str, str], make_candle: MakeCandle
) -> None:
    await push(hub, auth, make_candle(0))
    tag = (await get(hub, auth, LATEST)).headers["etag"]
    assert (await hub.client.get(LATEST, headers={"If-None-Match": tag})).status_code == 401
