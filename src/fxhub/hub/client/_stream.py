"""The hub's live stream (`WS /v1/stream`) as pure values, shared by the sync and async subscriptions."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Final
from urllib.parse import urlencode

from websockets.exceptions import InvalidStatus

from fxhub.errors import ValidationError
from fxhub.hub.client._protocol import check_pair, check_source
from fxhub.hub.client.errors import HubError, HubUnauthorized, HubUnreachable
from fxhub.model import Candle

__all__ = ["WS_LOGGER", "StreamDecoder", "handshake_error", "stream_url"]

logger = logging.getLogger(__name__)


class _RedactAuthorization(logging.Filter):
    """websockets logs every handshake header at DEBUG; keep the token out of the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) == 2:
            key, _value = record.args
            if isinstance(key, str) and key.lower() == "authorization":
                record.args = (key, "[secure]")
        return True


WS_LOGGER: Final = logging.getLogger("fxhub.hub.client.websocket")
WS_LOGGER.addFilter(_RedactAuthorization())


def stream_url(base_url: str, pairs: Iterable[str] | str | None, sources: Iterable[object] | None) -> str:
    """``ws(s)://host:port/v1/stream`` with the optional `symbols` and `sources` filters."""
    where = "subscribe"
    params: dict[str, str] = {}
    if pairs is not None:
        if isinstance(pairs, str):
            pairs = [pairs]
        params["symbols"] = ",".join(check_pair(pair, where) for pair in pairs)
    if sources is not None:
        if isinstance(sources, str):
            sources = [sources]
        checked = [check_source(source, where) for source in sources]
        params["sources"] = ",".join(source.value for source in checked if source is not None)
    scheme = "wss" if base_url.startswith("https:") else "ws"
    query = f"?{urlencode(params, safe=',')}" if params else ""
    return f"{scheme}:{base_url.split(':', 1)[1]}/v1/stream{query}"


class StreamDecoder:
    """Reads stream frames: a candle comes out; a `lagged` notice is counted in `dropped` and logged."""

    def __init__(self, url: str) -> None:
        self._url = url
        self.dropped = 0

    def decode(self, frame: str | bytes) -> Candle | None:
        try:
            message = json.loads(frame)
            kind = message["type"]
            if kind == "candle":
                return Candle.from_dict(message["candle"])
            if kind == "lagged":
                dropped = int(message["dropped"])
                self.dropped += dropped
                logger.warning(
                    "live stream fell behind, the hub dropped messages for this reader: "
                    "dropped=%d dropped_total=%d url=%s",
                    dropped,
                    self.dropped,
                    self._url,
                )
                return None
        except (ValueError, KeyError, TypeError, ValidationError) as error:
            raise HubError(
                f"the hub at {self._url} sent a malformed stream message ({error}), was {frame[:200]!r}; "
                "check the hub's version"
            ) from error
        logger.debug("ignoring stream message of unknown type %r", kind)
        return None


def handshake_error(error: Exception, url: str, token_origin: str) -> HubError:
    """The `HubError` for a failed WebSocket handshake (refused, timed out, 401, other status)."""
    if isinstance(error, InvalidStatus):
        status = error.response.status_code
        body = error.response.body.decode(errors="replace") if error.response.body else ""
        try:
            message = str(json.loads(body).get("error", body))
        except (ValueError, AttributeError):
            message = body.strip()[:200] or f"HTTP {status}"
        if status == 401:
            return HubUnauthorized(url, message, token_origin)
        return HubError(
            f"the hub at {url} refused the live stream with {status} ({message}); "
            "check that FXHUB_URL points at an fxhub hub of a matching version"
        )
    if isinstance(error, OSError | TimeoutError):
        return HubUnreachable(url, f"{type(error).__name__}: {error}")
    return HubError(f"the live stream from the hub at {url} failed to open ({error})")
