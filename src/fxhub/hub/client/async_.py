"""`AsyncHubClient`: the asyncio twin of `HubClient`, same methods, same answers, awaited."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Self

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, WebSocketException

from fxhub.hub.client import _protocol as proto
from fxhub.hub.client._base import ClientBase
from fxhub.hub.client._stream import WS_LOGGER, StreamDecoder, handshake_error, stream_url
from fxhub.hub.client.errors import HubError, HubUnreachable
from fxhub.hub.client.results import Health, InventoryItem, PushResult
from fxhub.model import Candle, Source

__all__ = ["AsyncHubClient", "AsyncSubscription"]


class AsyncHubClient(ClientBase[httpx.AsyncBaseTransport, httpx.AsyncClient, "AsyncSubscription"]):
    """Reads, writes and streams candles from asyncio code; see `HubClient` for the semantics.

    Use it as an async context manager, or `await client.aclose()`. Candle reads are conditional, with
    `cached_pages` kept answers, as `HubClient`'s.
    """

    def _open_http(
        self, options: dict[str, Any], transport: httpx.AsyncBaseTransport | None
    ) -> httpx.AsyncClient:
        return httpx.AsyncClient(**options, transport=transport)

    async def get_latest_candles(
        self, pair: str, limit: int = 100, source: Source | str | None = None
    ) -> list[Candle]:
        """The newest `limit` candles of `pair`, oldest first; both sources unless `source` is given."""
        read = self._pages.prepare(proto.latest_request(pair, limit, source))
        return read.candles(await self._send(read.request), self.url)

    async def get_candles(
        self, pair: str, start: datetime | str, end: datetime | str, source: Source | str | None = None
    ) -> list[Candle]:
        """Candles of `pair` with start ≤ timestamp < end (timezone-aware), oldest first, however many."""
        cursor = proto.RangeCursor(pair, start, end, source, self._range_page_limit)
        while (request := cursor.next_request()) is not None:
            read = self._pages.prepare(request)
            cursor.feed(read.candles(await self._send(read.request), self.url))
        return cursor.candles

    async def inventory(self) -> list[InventoryItem]:
        """What the hub holds per (symbol, source): count, first and last minute."""
        return proto.parse_inventory(await self._send(proto.inventory_request()), self.url)

    async def health(self) -> Health:
        """`GET /healthz`; a degraded hub (503) is returned, not raised."""
        return proto.parse_health(await self._send(proto.health_request(), ok_statuses=(503,)), self.url)

    async def push_candles(self, candles: Sequence[Candle]) -> PushResult:
        """Store `candles`; large batches go as several requests, in order (see `HubClient.push_candles`)."""
        result = PushResult()
        for request in proto.push_requests(candles):
            result += proto.parse_push(await self._send(request), self.url)
        return result

    def subscribe(
        self,
        pairs: Iterable[str] | str | None = None,
        sources: Iterable[Source | str] | None = None,
    ) -> AsyncSubscription:
        """The live stream as an async iterator of `Candle`.

        It connects on `async with` (after which every candle pushed is delivered) or on the first
        `async for` step. Closing the client closes its subscriptions.
        """
        subscription = AsyncSubscription(
            stream_url(self.url, pairs, sources),
            proto.headers(self._token),
            hub_url=self.url,
            token_origin=self._token_origin,
            open_timeout_s=self._timeout_s,
            on_close=self._subscriptions.discard,
        )
        self._subscriptions.add(subscription)
        return subscription

    async def aclose(self) -> None:
        for subscription in list(self._subscriptions):
            await subscription.aclose()
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def _send(self, request: proto.Request, ok_statuses: tuple[int, ...] = ()) -> httpx.Response:
        started = time.perf_counter()
        try:
            response = await self._http.request(
                request.method,
                request.path,
                params=dict(request.params),
                content=request.content,
                headers=dict(request.headers),
            )
        except httpx.TransportError as error:
            raise HubUnreachable(self.url, f"{type(error).__name__}: {error}") from error
        return proto.checked(response, request, self.url, self._token_origin, started, ok_statuses)


class AsyncSubscription:
    """The live stream as an async iterator of `Candle`; iteration ends when this side closes it.

    When the hub goes away the next step raises `HubUnreachable`; see `Subscription`.
    """

    def __init__(
        self,
        ws_url: str,
        headers: dict[str, str],
        *,
        hub_url: str,
        token_origin: str,
        open_timeout_s: float,
        on_close: Callable[[AsyncSubscription], None] | None = None,
    ) -> None:
        self._ws_url = ws_url
        self._headers = headers
        self._hub_url = hub_url
        self._token_origin = token_origin
        self._open_timeout_s = open_timeout_s
        self._on_close = on_close
        self._decoder = StreamDecoder(hub_url)
        self._connection: ClientConnection | None = None
        self._exit_stack = contextlib.AsyncExitStack()
        self._closed = False

    def __repr__(self) -> str:
        return f"AsyncSubscription({self._ws_url!r}, dropped={self.dropped})"

    @property
    def closed(self) -> bool:
        """Whether this side has closed the subscription."""
        return self._closed

    @property
    def dropped(self) -> int:
        """Messages the hub dropped for this reader because it fell behind."""
        return self._decoder.dropped

    async def open(self) -> Self:
        """Connect; the hub sends every candle pushed after this returns."""
        if self._closed:
            raise HubError("this subscription was closed; call AsyncHubClient.subscribe() for a new one")
        if self._connection is None:
            try:
                self._connection = await self._exit_stack.enter_async_context(
                    connect(
                        self._ws_url,
                        additional_headers=self._headers,
                        open_timeout=self._open_timeout_s,
                        logger=WS_LOGGER,
                    )
                )
            except (OSError, TimeoutError, InvalidHandshake) as error:
                raise handshake_error(error, self._hub_url, self._token_origin) from error
        return self

    async def receive(self, timeout_s: float | None = None) -> Candle:
        """The next candle; `TimeoutError` after `timeout_s`, `HubUnreachable` if the hub ends the stream."""
        async with asyncio.timeout(timeout_s):
            candle = await self._next_candle()
        if candle is None:
            raise HubError("this subscription was closed; call AsyncHubClient.subscribe() for a new one")
        return candle

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Candle:
        candle = await self._next_candle()
        if candle is None:
            raise StopAsyncIteration
        return candle

    async def _next_candle(self) -> Candle | None:
        """The next candle, or None once this side has closed the subscription."""
        while not self._closed:
            connection = (await self.open())._connection
            assert connection is not None
            try:
                frame = await connection.recv()
            except ConnectionClosed as error:
                if self.closed:  # by close(), from another thread or task
                    return None
                raise HubUnreachable(self._hub_url, f"the live stream ended: {error}") from error
            except WebSocketException as error:
                raise HubUnreachable(self._hub_url, f"the live stream broke: {error}") from error
            candle = self._decoder.decode(frame)
            if candle is not None:
                return candle
        return None

    async def aclose(self) -> None:
        self._closed = True
        await self._exit_stack.aclose()
        if self._on_close is not None:
            self._on_close(self)

    async def __aenter__(self) -> Self:
        return await self.open()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
