"""The hub app over a real SQLite store: in-process through httpx's ASGI transport, or served by
uvicorn on loopback in a background thread (for WebSocket tests)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from threaded_server import ThreadedServer

from fxhub.hub.server import HubConfig, create_app
from fxhub.hub.store import CandleStore, SqliteStore
from fxhub.settings import Secret

TOKEN = "test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def token() -> str:
    """The token every hub in these tests runs with."""
    return TOKEN


@pytest.fixture
def auth() -> dict[str, str]:
    """Headers that carry the right token."""
    return dict(AUTH)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    sqlite = SqliteStore(tmp_path / "hub.sqlite3")
    yield sqlite
    sqlite.close()


@pytest.fixture
def make_candle() -> Callable[..., dict[str, Any]]:
    """A valid candle as JSON: `make_candle(minute=3, symbol="GBP_USD", source="DATABENTO", close=1.2)`."""

    def make(minute: int = 0, symbol: str = "EUR_USD", source: str = "IG", **changes: Any) -> dict[str, Any]:
        timestamp = datetime(2025, 11, 4, 13, 0, tzinfo=UTC) + timedelta(minutes=minute)
        candle: dict[str, Any] = {
            "symbol": symbol,
            "timestamp": timestamp.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "open": 1.1000,
            "high": 1.1010,
            "low": 1.0990,
            "close": 1.1005,
            "volume": 42.0,
            "source": source,
            "volume_type": "tick" if source == "IG" else "real",
        }
        return candle | changes

    return make


@dataclass
class InProcessHub:
    app: FastAPI
    client: httpx.AsyncClient
    store: CandleStore


OpenHub = Callable[..., AbstractAsyncContextManager[InProcessHub]]


@pytest.fixture
def open_hub(store: SqliteStore) -> OpenHub:
    """`async with open_hub(allow_anonymous_reads=True) as hub:` an app (lifespan running) and a client."""

    @asynccontextmanager
    async def open_(store_: CandleStore | None = None, **config: Any) -> AsyncIterator[InProcessHub]:
        used = store if store_ is None else store_
        app = create_app(HubConfig(token=Secret(TOKEN), **config), used)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub.test") as client,
        ):
            yield InProcessHub(app, client, used)

    return open_


@pytest.fixture
async def hub(open_hub: OpenHub) -> AsyncIterator[InProcessHub]:
    async with open_hub() as opened:
        yield opened


@dataclass
class ThreadedHub:
    app: FastAPI
    server: uvicorn.Server
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"


@pytest.fixture
def serve_hub(store: SqliteStore) -> Iterator[Callable[..., ThreadedHub]]:
    """`serve_hub(stream_queue_size=5)`: the app under uvicorn on 127.0.0.1 (a free port), in a thread."""
    running: list[ThreadedServer] = []

    def serve(**config: Any) -> ThreadedHub:
        app = create_app(HubConfig(token=Secret(TOKEN), **config), store)
        runner = ThreadedServer(app, "hub-under-test", lifespan="on")
        running.append(runner)
        return ThreadedHub(app, runner.server, runner.start())

    yield serve
    for runner in running:
        runner.stop(15)
