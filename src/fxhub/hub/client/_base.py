"""What `HubClient` and `AsyncHubClient` hold alike: the address, the token, read settings, kept pages."""

from __future__ import annotations

from typing import Any

from fxhub.hub.client import _protocol as proto
from fxhub.hub.client._pages import PageCache
from fxhub.settings import Secret

__all__ = ["ClientBase"]


class ClientBase:
    """The checked settings both clients start from; each adds its own httpx client and stream type."""

    def __init__(
        self,
        url: str,
        token: str | Secret | None,
        *,
        timeout_s: float,
        token_origin: str | None,
        range_page_limit: int,
        cached_pages: int,
    ) -> None:
        self.url = proto.check_url(url)
        self._token = proto.as_token(token)
        self._token_origin = proto.describe_token_origin(self._token, token_origin)
        self._timeout_s = timeout_s
        self._range_page_limit = range_page_limit
        self._pages = PageCache(cached_pages)

    def _http_options(self) -> dict[str, Any]:
        """The keyword arguments of the httpx client: base URL, auth header, timeout."""
        return {"base_url": self.url, "headers": proto.headers(self._token), "timeout": self._timeout_s}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(url={self.url!r}, token={self._token!r})"
