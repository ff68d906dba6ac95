"""`WS /v1/stream`: live candles as pushes store them, filtered by symbol and source."""

from __future__ import annotations

import logging
from typing import Final

import anyio
from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect

from fxhub.errors import ValidationError
from fxhub.hub.server.auth import websocket_token
from fxhub.hub.server.errors import HubHTTPError, error_response
from fxhub.hub.server.state import hub_broadcaster, hub_metrics
from fxhub.hub.server.stream import StreamFilter, Subscription

__all__ = ["GOING_AWAY", "POLICY_VIOLATION", "router"]

logger = logging.getLogger(__name__)

POLICY_VIOLATION: Final = 1008  # the close code when the server cannot send an HTTP denial
GOING_AWAY: Final = 1001  # the hub is stopping

_QUERY_NAMES: Final = frozenset({"symbols", "sources", "token"})
_TAKES: Final = "is not a parameter of /v1/stream, which takes `symbols`, `sources` and `token`"

router = APIRouter()


@router.websocket("/v1/stream", name="stream")
async def stream(websocket: WebSocket) -> None:
    """Send each inserted or revised candle that matches `?symbols=` and `?sources=` as a text frame."""
    try:
        websocket_token(websocket)
        unknown = sorted(set(websocket.query_params) - _QUERY_NAMES)
        if unknown:
            raise ValidationError(unknown[0], websocket.query_params[unknown[0]], _TAKES, where="stream")
        wanted = StreamFilter.parse(
            websocket.query_params.get("symbols"), websocket.query_params.get("sources")
        )
    except HubHTTPError as exc:
        await _deny(websocket, exc)
        return
    except ValidationError as exc:
        await _deny(websocket, HubHTTPError(422, f"`{exc.field}` {exc.rule}, was {exc.value!r}; fix the URL"))
        return
    metrics = hub_metrics(websocket)
    with hub_broadcaster(websocket).subscribe(wanted) as subscription:
        await websocket.accept()
        metrics.read_requests.labels("stream").inc()
        metrics.stream_subscribers.inc()
        try:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(_send_all, websocket, subscription, tasks.cancel_scope)
                await _until_disconnected(websocket)
                tasks.cancel_scope.cancel()
        finally:
            metrics.stream_subscribers.dec()
            if subscription.dropped_total:
                logger.info("stream reader left after %d messages were dropped", subscription.dropped_total)


async def _send_all(websocket: WebSocket, subscription: Subscription, scope: anyio.CancelScope) -> None:
    """Forward buffered frames until the hub stops (close 1001) or the reader goes away."""
    try:
        while (message := await subscription.next()) is not None:
            await websocket.send_text(message)
        await websocket.close(GOING_AWAY, "the hub is stopping")
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass  # the reader is gone; _until_disconnected sees it too
    scope.cancel()


async def _until_disconnected(websocket: WebSocket) -> None:
    """Read (and ignore) what the client sends until it disconnects."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return


async def _deny(websocket: WebSocket, exc: HubHTTPError) -> None:
    """Refuse a handshake with an HTTP answer when the server can send one, else close with 1008."""
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(
            error_response(exc.status_code, exc.error, exc.detail, exc.headers)
        )
    else:
        await websocket.close(POLICY_VIOLATION, exc.error.encode()[:120].decode(errors="ignore"))
