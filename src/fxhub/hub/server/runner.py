"""`serve`: run the hub under uvicorn until SIGINT or SIGTERM, then stop cleanly and close the store."""

from __future__ import annotations

import contextlib
import logging
import re
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Final

import uvicorn

from fxhub import __version__
from fxhub.errors import ConfigError
from fxhub.hub.server.app import create_app
from fxhub.hub.server.config import HubConfig
from fxhub.hub.store import open_store

__all__ = ["GRACEFUL_SHUTDOWN_SECONDS", "TokenRedactingFilter", "serve"]

logger = logging.getLogger(__name__)

GRACEFUL_SHUTDOWN_SECONDS: Final = 10
"""How long a stopping hub waits for requests in flight before it closes their connections."""
_TOKEN_IN_QUERY: Final = re.compile(r"(?i)([?&]token=)[^&\s\"']*")


class TokenRedactingFilter(logging.Filter):
    """Mask `?token=...` in log lines: uvicorn logs WebSocket URLs with their query string."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "token=" in message.lower():
            record.msg = _TOKEN_IN_QUERY.sub(r"\g<1>****", message)
            record.args = None
        return True


def serve(config: HubConfig, *, log_level: str = "info", default_store_dir: Path | None = None) -> None:
    """Open the store `config.store_url` names, serve it on `config.host:config.port`, close it at exit.

    `config.token` must be set (`fxhub serve` fills it from FXHUB_TOKEN or the token file).
    `default_store_dir` is where the default SQLite file goes when no store URL is given.
    uvicorn's own records go through the root logger, as the caller configured it (`fxhub.cli.logs`).
    """
    if config.token is None:
        raise ConfigError("the hub needs a token to serve; set FXHUB_TOKEN or let `fxhub serve` create one")
    logger.info(
        "fxhub hub %s: %s", __version__, ", ".join(f"{key}={value}" for key, value in config.masked().items())
    )
    host = f"[{config.host}]" if ":" in config.host else config.host
    logger.info("dashboard: http://%s:%d/ (it asks for the hub's token)", host, config.port)
    if not config.is_loopback:
        logger.warning(
            "the hub listens on %s, so other machines can reach it: writes%s need the token (%s); "
            "use a firewall or TLS proxy in front of it on an untrusted network",
            config.host,
            "" if config.allow_anonymous_reads else " and reads",
            config.token.masked(),
        )
    store = open_store(config.store_url, default_dir=default_store_dir, hot_window=config.hot_window)
    try:
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(config, store),
                host=config.host,
                port=config.port,
                log_level=log_level.lower(),
                log_config=None,  # no handlers of uvicorn's own: its records reach the root logger's
                lifespan="on",
                # A line per request costs the hub more than answering a polled latest-100 from memory:
                # the access log is for troubleshooting, at DEBUG. /metrics counts requests anyway.
                access_log=log_level.lower() == "debug",
                server_header=False,
                timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
            )
        )
        redact = TokenRedactingFilter()
        for name in ("uvicorn.error", "uvicorn.access"):
            logging.getLogger(name).addFilter(redact)
        with _stop_signals_end_run():
            # uvicorn handles SIGINT and SIGTERM itself: it stops accepting, finishes the requests in
            # flight, runs the lifespan's end, then raises the signal again for the previous handler.
            server.run()
    finally:
        store.close()
        logger.info("hub stopped; store closed")


class _StopSignal(Exception):
    """SIGINT or SIGTERM arrived again after uvicorn's graceful stop: time to close the store."""


@contextlib.contextmanager
def _stop_signals_end_run() -> Iterator[None]:
    """Turn the signal uvicorn re-raises after stopping into a normal return, so `finally` still runs.

    Without this, the re-raised SIGTERM would end the process before the store is closed.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set in the main thread; uvicorn does not set them either
        return
    stop_signals = (signal.SIGINT, signal.SIGTERM)

    def stop(signum: int, _frame: FrameType | None) -> None:
        raise _StopSignal(signum)

    previous = {signum: signal.signal(signum, stop) for signum in stop_signals}
    try:
        yield
    except _StopSignal as exc:
        logger.info("stopped by %s", signal.Signals(exc.args[0]).name)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
