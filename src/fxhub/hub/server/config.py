"""What one hub process is told: where to listen, which store, the token and the limits."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Final

from fxhub.errors import ConfigError
from fxhub.settings import Secret, mask_store_url

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "HubConfig", "is_loopback"]

DEFAULT_HOST: Final = "127.0.0.1"
DEFAULT_PORT: Final = 50000
_MIB: Final = 1024 * 1024


@dataclass(frozen=True, kw_only=True, slots=True, repr=False)
class HubConfig:
    """The hub's settings; built by `fxhub serve` from its options and the environment.

    `store_url` None means the default SQLite file. `token` is what every write (and every read, unless
    `allow_anonymous_reads`) must present; `create_app` refuses to run without one. The limits bound
    what one request may cost: `max_body_bytes` for a push body, `max_candles_per_push` for its batch,
    and `stream_queue_size` messages buffered per WebSocket reader before the oldest are dropped.
    """

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    store_url: str | None = None
    token: Secret | None = None
    allow_anonymous_reads: bool = False
    max_body_bytes: int = 8 * _MIB
    max_candles_per_push: int = 10_000
    stream_queue_size: int = 1000
    hot_window: int = 2000  # newest candles per (pair, source) kept in memory; 0 when hubs share a store

    def __post_init__(self) -> None:
        if not isinstance(self.port, int) or not 0 <= self.port <= 65535:
            raise ConfigError(f"HubConfig.port must be a TCP port in 0..65535, was {self.port!r}")
        if isinstance(self.hot_window, bool) or not isinstance(self.hot_window, int) or self.hot_window < 0:
            raise ConfigError(f"HubConfig.hot_window must be a whole number ≥ 0, was {self.hot_window!r}")
        for name in ("max_body_bytes", "max_candles_per_push", "stream_queue_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"HubConfig.{name} must be a positive whole number, was {value!r}")
        if self.token is not None and not isinstance(self.token, Secret):
            raise ConfigError("HubConfig.token must be a fxhub.settings.Secret (or None), was a plain value")

    @property
    def is_loopback(self) -> bool:
        """True when only this machine can reach the hub."""
        return is_loopback(self.host)

    def masked(self) -> dict[str, str]:
        """Every setting as text for the start-up log; the token and a store password masked."""
        return {
            "host": self.host,
            "port": str(self.port),
            "store_url": "(default SQLite file)"
            if self.store_url is None
            else mask_store_url(self.store_url),
            "token": "(not set)" if self.token is None else self.token.masked(),
            "allow_anonymous_reads": str(self.allow_anonymous_reads),
            "max_body_bytes": str(self.max_body_bytes),
            "max_candles_per_push": str(self.max_candles_per_push),
            "stream_queue_size": str(self.stream_queue_size),
            "hot_window": str(self.hot_window),
        }

    def __repr__(self) -> str:
        return f"HubConfig({', '.join(f'{key}={value!r}' for key, value in self.masked().items())})"


def is_loopback(host: str) -> bool:
    """Whether `host` (an address or 'localhost') is reachable only from this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything
