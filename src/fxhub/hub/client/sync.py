"""`HubClient`: the blocking client for the hub's HTTP API and live stream."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Self

import httpx
from websockets.exceptions import ConnectionClosed, InvalidHandshake, WebSocketException
from websockets.sync.client import ClientConnection, connect

from fxhub.hub.client import _protocol as proto
from fxhub.hub.client._base import ClientBase
from fxhub.hub.client._stream import WS_LOGGER, StreamDecoder, handshake_error, stream_url
from fxhub.hub.client.errors import HubError, HubUnreachable
from fxhub.hub.client.results import Health, InventoryItem, PushResult
from fxhub.model import Candle, Source

__all__ = ["HubClient", "Subscription"]


class HubClient(ClientBase[httpx.BaseTransport, httpx.Client, "Subscription"]):
    """Reads, writes and streams candles over one keep-alive connection to the hub.

    Candles come back as `Candle` objects, oldest first. Arguments are checked before anything is sent
    (`ValidationError`); the hub's refusals raise `HubError` subclasses. Use it as a context manager, or
    call `close()`. Safe to share between threads (httpx's client and the page cache are).

    Candle reads are conditional: the last answer of each of `cached_pages` read URLs (default 64, 0 for
    none) is kept with its `ETag` (and series token) and asked again, so an unchanged page costs a `304`
    and no decoding; a single-source latest page that changed comes back as just the candles written
    since, put into the kept page; other changed pages come back whole (docs/hub-api.md).
    """

    def _open_http(self, options: dict[str, Any], transport: httpx.BaseTransport | None) -> httpx.Client:
        return httpx.Client(**options, transport=transport)

    # --- reads -------------------------------------------------------------------------------------

    def get_latest_candles(
        self, pair: str, limit: int = 100, source: Source | str | None = None
    ) -> list[Candle]:
        """The newest `limit` candles of `pair`, oldest first; both sources unless `source` is given."""
        read = self._pages.prepare(proto.latest_request(pair, limit, source))
        return read.candles(self._send(read.request), self.url)

    def get_candles(
        self, pair: str, start: datetime | str, end: datetime | str, source: Source | str | None = None
    ) -> list[Candle]:
        """Candles of `pair` with start ≤ timestamp < end (timezone-aware), oldest first, however many."""
        cursor = proto.RangeCursor(pair, start, end, source, self._range_page_limit)
        while (request := cursor.next_request()) is not None:
            read = self._pages.prepare(request)
            cursor.feed(read.candles(self._send(read.request), self.url))
        return cursor.candles

    def inventory(self) -> list[InventoryItem]:
        """What the hub holds per (symbol, source): count, first and last minute."""
        return proto.parse_inventory(self._send(proto.inventory_request()), self.url)

    def health(self) -> Health:
        """`GET /healthz`; a degraded hub (503) is returned, not raised."""
        return proto.parse_health(self._send(proto.health_request(), ok_statuses=(503,)), self.url)

    # --- writes ------------------------------------------------------------------------------------

    def push_candles(self, candles: Sequence[Candle]) -> PushResult:
        """Store `candles` (idempotent per symbol, source, minute); large batches go as several requests.

        Each request is all-or-nothing. When one is rejected, `HubRejected.stored_before` says how many
        candles earlier requests stored, and the reasons' `index` counts from the start of `candles`.
        """
        result = PushResult()
        for request in proto.push_requests(candles):
            result += proto.parse_push(self._send(request), self.url)
        return result

    # --- live --------------------------------------------------------------------------------------

    def subscribe(
        self,
        pairs: Iterable[str] | str | None = None,
        sources: Iterable[Source | str] | None = None,
    ) -> Subscription:
        """Open the live stream now and return it: an iterator of every candle pushed from here on.

        `pairs` / `sources` filter (None: all). Closing the client closes its subscriptions.
        """
        subscription = Subscription(
            stream_url(self.url, pairs, sources),
            proto.headers(self._token),
            hub_url=self.url,
            token_origin=self._token_origin,
            open_timeout_s=self._timeout_s,
            on_close=self._subscriptions.discard,
        )
        self._subscriptions.add(subscription)
        try:
            subscription.open()
        except BaseException:
            self._subscriptions.discard(subscription)
            raise
        return subscription

    # --- lifecycle ---------------------------------------------------------------------------------

    def close(self) -> None:
        for subscription in list(self._subscriptions):
            subscription.close()
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _send(self, request: proto.Request, ok_statuses: tuple[int, ...] = ()) -> httpx.Response:
        started = time.perf_counter()
        try:
            response = self._http.request(
                request.method,
                request.path,
                params=dict(request.params),
                content=request.content,
                headers=dict(request.headers),
            )
        except httpx.TransportError as error:
            raise HubUnreachable(self.url, f"{type(error).__name__}: {error}") from error
        return proto.checked(response, request, self.url, self._token_origin, started, ok_statuses)


class Subscription:
    """The live stream as an iterator of `Candle`; iteration ends when this side closes it.

    When the hub goes away (stopped, restarted, connection dropped) the next step raises
    `HubUnreachable`: subscribe again once the hub is back. `dropped` counts messages the hub
    discarded because this reader fell behind (each such notice is logged as a warning).
    `receive(timeout_s)` waits at most that long for the next candle.
    """

    def __init__(
        self,
        ws_url: str,
        headers: dict[str, str],
        *,
        hub_url: str,
        token_origin: str,
        open_timeout_s: float,
        on_close: Callable[[Subscription], None] | None = None,
    ) -> None:
        self._ws_url = ws_url
        self._headers = headers
        self._hub_url = hub_url
        self._token_origin = token_origin
        self._open_timeout_s = open_timeout_s
        self._on_close = on_close
        self._decoder = StreamDecoder(hub_url)
        self._connection: ClientConnection | None = None
        self._exit_stack = contextlib.ExitStack()  # websockets wants its connection used as a context
        self._closed = False

    def __repr__(self) -> str:
        return f"Subscription({self._ws_url!r}, dropped={self.dropped})"

    @property
    def closed(self) -> bool:
        """Whether this side has closed the subscription."""
        return self._closed

    @property
    def dropped(self) -> int:
        """Messages the hub dropped for this reader because it fell behind."""
        return self._decoder.dropped

    def open(self) -> Self:
        """Connect (done by `HubClient.subscribe`); the hub sends every candle pushed after this returns."""
        if self._closed:
            raise HubError("this subscription was closed; call HubClient.subscribe() for a new one")
        if self._connection is None:
            try:
                self._connection = self._exit_stack.enter_context(
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

    def receive(self, timeout_s: float | None = None) -> Candle:
        """The next candle; `TimeoutError` after `timeout_s`, `HubUnreachable` if the hub ends the stream."""
        candle = self._next_candle(timeout_s)
        if candle is None:
            raise HubError("this subscription was closed; call HubClient.subscribe() for a new one")
        return candle

    def __iter__(self) -> Iterator[Candle]:
        return self

    def __next__(self) -> Candle:
        candle = self._next_candle(None)
        if candle is None:
            raise StopIteration
        return candle

    def _next_candle(self, timeout_s: float | None) -> Candle | None:
        """The next candle, or None once this side has closed the subscription."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while not self._closed:
            connection = self.open()._connection
            assert connection is not None
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                frame = connection.recv(remaining)
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

    def close(self) -> None:
        self._closed = True
        self._exit_stack.close()
        if self._on_close is not None:
            self._on_close(self)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
