"""`fxhub serve`: run the hub on this machine."""

from __future__ import annotations

import logging
import os
from typing import Annotated

import typer

from fxhub.cli.logs import LogFileOption, LogLevelOption, command_logging
from fxhub.hub.server import HubConfig, ensure_token, serve, token_file_path
from fxhub.hub.server.config import DEFAULT_HOST, DEFAULT_PORT
from fxhub.settings import load_settings

__all__ = ["serve_command"]


def serve_command(
    ctx: typer.Context,
    host: Annotated[
        str,
        typer.Option("--host", help="Address to listen on; anything but loopback is reachable by others."),
    ] = DEFAULT_HOST,
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="TCP port.")] = DEFAULT_PORT,
    store: Annotated[
        str | None,
        typer.Option(
            "--store",
            help="SQLite file path or postgresql://... URL; default FXHUB_STORE, else a SQLite file "
            "in the user data folder.",
        ),
    ] = None,
    allow_anonymous_reads: Annotated[
        bool,
        typer.Option("--allow-anonymous-reads", help="Serve reads without a token (writes still need it)."),
    ] = False,
    hot_window: Annotated[
        int,
        typer.Option(
            "--hot-window",
            min=0,
            help="Newest candles per pair and source kept in memory for latest-N reads; "
            "0 when several hubs share one PostgreSQL.",
        ),
    ] = 2000,
    log_level: LogLevelOption = None,
    log_file: LogFileOption = None,
) -> None:
    """Serve candles over HTTP and WebSocket until SIGTERM or Ctrl-C; the token is FXHUB_TOKEN, else the
    hub's token file."""
    level = command_logging(ctx, log_level, log_file, default_level="INFO")
    settings = load_settings()
    path = token_file_path(os.environ)
    token = ensure_token(settings.fxhub_token, path)
    if settings.fxhub_token is None:
        logging.getLogger(__name__).info("hub token from the token file %s", path)
    config = HubConfig(
        host=host,
        port=port,
        store_url=store if store is not None else settings.fxhub_store,
        token=token,
        allow_anonymous_reads=allow_anonymous_reads,
        hot_window=hot_window,
    )
    serve(config, log_level=level)
