"""`create_app`: the hub's FastAPI application around one candle store.

Everything the app needs lives on `app.state` — the config, the store, the per-app Prometheus registry
and metrics, and (while the lifespan runs) the live-stream `Broadcaster` — so two apps in one process
share nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from prometheus_client import CollectorRegistry
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fxhub import __version__
from fxhub.errors import ConfigError
from fxhub.hub.server import dashboard, routes, websocket
from fxhub.hub.server.config import HubConfig
from fxhub.hub.server.errors import install_error_handlers
from fxhub.hub.server.health import CountCache
from fxhub.hub.server.metrics import READ_ENDPOINTS, HubMetrics, push_outcome
from fxhub.hub.server.schemas import PushRequest
from fxhub.hub.server.stream import Broadcaster
from fxhub.hub.store import CandleStore, HotWindowStore, PostgresStore, SqliteStore

__all__ = ["create_app", "store_kind"]

logger = logging.getLogger(__name__)


def store_kind(store: CandleStore) -> str:
    """'postgresql' or 'sqlite' (the database behind any hot window), as /healthz reports it."""
    while isinstance(store, HotWindowStore):
        store = store.inner
    if isinstance(store, PostgresStore):
        return "postgresql"
    if isinstance(store, SqliteStore):
        return "sqlite"
    return type(store).__name__


class _RequestMetrics:
    """ASGI middleware: time each HTTP request and count reads and push outcomes, by route name."""

    def __init__(self, app: ASGIApp, metrics: HubMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            # The router puts the matched route in the scope; unknown paths share one label.
            endpoint = getattr(scope.get("route"), "name", None) or "unmatched"
            self.metrics.request_seconds.labels(endpoint).observe(time.perf_counter() - began)
            method = scope.get("method")
            if endpoint == "push" and method == "POST":
                self.metrics.push_requests.labels(push_outcome(status)).inc()
            elif endpoint in READ_ENDPOINTS and method in ("GET", "HEAD"):
                self.metrics.read_requests.labels(endpoint).inc()


def create_app(config: HubConfig, store: CandleStore) -> FastAPI:
    """The hub's app serving `store`; the caller opens the store and closes it after the app stops."""
    if config.token is None:
        raise ConfigError(
            "HubConfig.token is None, and the hub needs a token for writes; pass one "
            "(`fxhub serve` takes FXHUB_TOKEN or the token file, see ensure_token)"
        )
    registry = CollectorRegistry()
    metrics = HubMetrics.create(registry)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        broadcaster = Broadcaster(config.stream_queue_size, on_drop=metrics.stream_dropped.inc)
        app.state.broadcaster = broadcaster
        logger.info("hub app started on a %s store", app.state.store_kind)
        try:
            yield
        finally:
            broadcaster.close()
            del app.state.broadcaster
            logger.info("hub app stopped")

    app = FastAPI(
        title="fxhub",
        version=__version__,
        summary="The fxhub market-data hub: 1-minute candles with honest volume, pushed and served.",
        lifespan=lifespan,
    )
    app.state.config = config
    app.state.store = store
    app.state.store_kind = store_kind(store)
    app.state.count_cache = CountCache()
    app.state.registry = registry
    app.state.metrics = metrics
    install_error_handlers(app)
    app.include_router(routes.router)
    app.include_router(websocket.router)
    app.include_router(dashboard.router)
    app.add_middleware(_RequestMetrics, metrics=metrics)
    app.openapi = lambda: _openapi(app, config)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI, config: HubConfig) -> dict[str, Any]:
    """FastAPI's document plus the push body's schema (the hub reads that body itself)."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    document = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        routes=app.routes,
        description=app.description,
    )
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    push_schema = PushRequest.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, definition in push_schema.pop("$defs", {}).items():
        schemas.setdefault(name, definition)
    schemas["PushRequest"] = push_schema
    if config.allow_anonymous_reads:
        for path, operations in document.get("paths", {}).items():
            operation = operations.get("get")
            if operation is not None and path.startswith("/v1/"):
                operation.pop("security", None)
                operation.get("responses", {}).pop("401", None)
    app.openapi_schema = document
    return document
