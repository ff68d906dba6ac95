"""Fixtures for the IG tests: IG's REST gateway and a Lightstreamer server, both real servers on loopback."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from rest_standin import IgRestStandin
from tlcp_standin import TlcpStandin

from fxhub.settings import Secret
from fxhub.sources.ig.rest import IgRestClient
from fxhub.sources.ig.streaming import StreamOptions

STANDIN_KEEPALIVE_MS = 200


@pytest.fixture
def ig_fast_stream() -> StreamOptions:
    """Client timings shrunk so that a dropped socket is noticed and repaired in well under a second."""
    return StreamOptions(
        retry_delay_ms=200,
        first_retry_max_delay_ms=20,
        stalled_timeout_ms=200,
        reconnect_timeout_ms=200,
        session_recovery_timeout_ms=3000,
    )


@pytest.fixture
def ig_tlcp() -> Iterator[Callable[..., TlcpStandin]]:
    """`ig_tlcp(accepted_protocol=..., user=..., password=...)`: a started TLCP stand-in, stopped after."""
    started: list[TlcpStandin] = []

    def start(**options: Any) -> TlcpStandin:
        options.setdefault("keepalive_ms", STANDIN_KEEPALIVE_MS)
        standin = TlcpStandin(**options).start()
        started.append(standin)
        return standin

    yield start
    for standin in started:
        standin.stop()


@pytest.fixture
def ig_rest() -> Iterator[IgRestStandin]:
    """IG's REST gateway; its `lightstreamer_endpoint` can be pointed at a TLCP stand-in."""
    standin = IgRestStandin().start()
    yield standin
    standin.stop()


@pytest.fixture
def ig_rest_client(ig_rest: IgRestStandin) -> Iterator[Callable[..., IgRestClient]]:
    """`ig_rest_client(api_version=3, password=..., clock=...)`: clients of the REST stand-in."""
    clients: list[IgRestClient] = []

    def make(**options: Any) -> IgRestClient:
        password = options.pop("password", ig_rest.password)
        client = IgRestClient(
            ig_rest.url,
            Secret(options.pop("api_key", ig_rest.api_key)),
            options.pop("username", ig_rest.username),
            Secret(password),
            **options,
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def ig_closed_port_url() -> str:
    """http://127.0.0.1:<port> where nothing listens (the port was just free)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
