"""Typed access to what `create_app` and its lifespan keep on `app.state` (never in module globals)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import HTTPConnection

from fxhub.hub.store.base import CandleStore

if TYPE_CHECKING:
    from fxhub.hub.server.config import HubConfig
    from fxhub.hub.server.health import CountCache
    from fxhub.hub.server.metrics import HubMetrics
    from fxhub.hub.server.stream import Broadcaster

__all__ = [
    "hub_broadcaster",
    "hub_config",
    "hub_count_cache",
    "hub_metrics",
    "hub_store",
    "hub_store_kind",
]


def _get(connection: HTTPConnection, name: str) -> Any:
    try:
        return getattr(connection.app.state, name)
    except AttributeError:
        raise RuntimeError(
            f"app.state.{name} is not set: build the app with create_app() and run its lifespan "
            "(uvicorn with lifespan='on', or `with TestClient(app):`)"
        ) from None


def hub_config(connection: HTTPConnection) -> HubConfig:
    """The config the app was created with."""
    config: HubConfig = _get(connection, "config")
    return config


def hub_store(connection: HTTPConnection) -> CandleStore:
    """The candle store; its methods block, so call them in a worker thread."""
    store: CandleStore = _get(connection, "store")
    return store


def hub_store_kind(connection: HTTPConnection) -> str:
    """'sqlite' or 'postgresql', for /healthz."""
    kind: str = _get(connection, "store_kind")
    return kind


def hub_metrics(connection: HTTPConnection) -> HubMetrics:
    """The app's Prometheus metrics."""
    metrics: HubMetrics = _get(connection, "metrics")
    return metrics


def hub_broadcaster(connection: HTTPConnection) -> Broadcaster:
    """The live-candle broadcaster; exists while the lifespan runs."""
    broadcaster: Broadcaster = _get(connection, "broadcaster")
    return broadcaster


def hub_count_cache(connection: HTTPConnection) -> CountCache:
    """The cached candle count /healthz reports."""
    cache: CountCache = _get(connection, "count_cache")
    return cache
