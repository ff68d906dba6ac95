"""Latest reads that send only what changed since the page a client holds (docs/hub-api.md).

A single-source latest page served from the hot window carries `X-Fxhub-Series`, a token naming the
series' contents. A client that sends it back as `X-Fxhub-Since` gets `304` while the series is
unchanged, else a page with a `delta` object and only the candles written since: a strategy polling
the newest few hundred minutes receives one new minute, not the whole page, each time one arrives.
A token the hub cannot use (another hub, a restart, an evicted window) gets the whole page.
"""

from __future__ import annotations

from typing import Final

import orjson
from fastapi.responses import Response

from fxhub.hub.headers import SERIES_HEADER, SINCE_HEADER
from fxhub.hub.store import SeriesDelta
from fxhub.model import Source

__all__ = ["delta_response", "series_headers"]

# The answer depends on the token sent; `no-cache` as for every page: a cache must ask again.
_HEADERS: Final = {"Vary": SINCE_HEADER, "Cache-Control": "no-cache"}


def series_headers(token: str | None) -> dict[str, str]:
    """The headers that hand a full page's series token to the client (none without a token)."""
    return {} if token is None else {SERIES_HEADER: token} | _HEADERS


def delta_response(symbol: str, source: Source, since: str, delta: SeriesDelta) -> Response:
    """`304` when nothing changed since `since`, else the page's changed candles and its bounds."""
    headers = series_headers(delta.token)
    if delta.changed is None:
        return Response(status_code=304, headers=headers)
    body = {
        "symbol": symbol,
        "source": source.value,
        "candles": [candle.to_dict() for candle in delta.changed],
        "delta": {
            "since": since,
            "first": None if delta.first is None else delta.first.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "count": delta.size,
        },
    }
    return Response(orjson.dumps(body), media_type="application/json", headers=headers)
