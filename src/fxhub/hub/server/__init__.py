"""The hub's HTTP and WebSocket server (docs/hub-api.md): push, read, stream, health and metrics."""

from fxhub.hub.server.app import create_app
from fxhub.hub.server.config import HubConfig
from fxhub.hub.server.runner import serve
from fxhub.hub.server.stream import Broadcaster, StreamFilter, Subscription
from fxhub.hub.server.token import ensure_token, read_token_file, token_file_path

__all__ = [
    "Broadcaster",
    "HubConfig",
    "StreamFilter",
    "Subscription",
    "create_app",
    "ensure_token",
    "read_token_file",
    "serve",
    "token_file_path",
]
