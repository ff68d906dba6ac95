"""What `HubClient` and `AsyncHubClient` share: the constructor, the checked settings, kept pages, repr."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from fxhub.hub.client import _protocol as proto
from fxhub.hub.client._pages import DEFAULT_CACHED_PAGES, PageCache
from fxhub.settings import Secret

__all__ = ["ClientBase"]

TransportT = TypeVar("TransportT")  # httpx.BaseTransport or httpx.AsyncBaseTransport
HttpT = TypeVar("HttpT")  # httpx.Client or httpx.AsyncClient
SubscriptionT = TypeVar("SubscriptionT")


class ClientBase(Generic[TransportT, HttpT, SubscriptionT]):
    """One constructor for both clients; each says how it opens its httpx client (`_open_http`).

    `url` is checked, `token` masked in every repr, `token_origin` (where the token came from) named in
    refusals; `range_page_limit` bounds each page of a range read; `cached_pages` answers are kept for
    conditional reads (0: none). `transport` replaces httpx's own (tests, proxies).
    """

    def __init__(
        self,
        url: str,
        token: str | Secret | None,
        *,
        timeout_s: float = proto.DEFAULT_TIMEOUT_S,
        transport: TransportT | None = None,
        token_origin: str | None = None,
        range_page_limit: int = proto.MAX_RANGE_LIMIT,
        cached_pages: int = DEFAULT_CACHED_PAGES,
    ) -> None:
        self.url = proto.check_url(url)
        self._token = proto.as_token(token)
        self._token_origin = proto.describe_token_origin(self._token, token_origin)
        self._timeout_s = timeout_s
        self._range_page_limit = range_page_limit
        self._pages = PageCache(cached_pages)
        self._subscriptions: set[SubscriptionT] = set()
        self._http: HttpT = self._open_http(self._http_options(), transport)

    def _open_http(self, options: dict[str, Any], transport: TransportT | None) -> HttpT:
        raise NotImplementedError

    def _http_options(self) -> dict[str, Any]:
        """The keyword arguments of the httpx client: base URL, auth header, timeout."""
        return {"base_url": self.url, "headers": proto.headers(self._token), "timeout": self._timeout_s}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(url={self.url!r}, token={self._token!r})"
