"""Fixtures for the client tests: a stand-in hub (httpx MockTransport), a closed port, a real hub."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator

import httpx
import pytest
from client_support import FakeHub, RunningHub

from fxhub.hub.client import HubClient


@pytest.fixture
def fake_hub() -> FakeHub:
    return FakeHub()


@pytest.fixture
def fake_client(fake_hub: FakeHub) -> Iterator[Callable[[], HubClient]]:
    """Makes `HubClient`s whose requests `fake_hub` answers in-process."""
    clients: list[HubClient] = []

    def make() -> HubClient:
        client = HubClient(
            "http://hub.test", "t0ken-for-tests", transport=httpx.MockTransport(fake_hub.handle)
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def closed_port_url() -> str:
    """http://127.0.0.1:<port> where nothing listens (the port was just free)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def hub(hub_process: Callable[..., RunningHub]) -> RunningHub:
    """One real hub process with a fresh SQLite store and a generated token (read from its token file)."""
    return hub_process()


@pytest.fixture
def anyio_backend() -> str:
    """The async client is built on asyncio (websockets.asyncio); run its tests there only."""
    return "asyncio"
