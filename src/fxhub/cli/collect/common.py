"""What every collector command shares: hub options, the sink, one-mode checks, running until a signal."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Final

import typer
from rich.console import Console

from fxhub.cli.stopping import StopEvent, stop_on_signals
from fxhub.collect import HubSink, default_outbox_path
from fxhub.errors import ConfigError
from fxhub.hub.client import connect_to_data_hub

__all__ = [
    "DRAIN_TIMEOUT_SECONDS",
    "DrainTimeoutOption",
    "HubOption",
    "OutboxOption",
    "SpeedOption",
    "TokenOption",
    "log_stop",
    "one_mode",
    "parse_pairs",
    "run_until_signal",
    "sink_to_hub",
]

HubOption = Annotated[
    str | None, typer.Option("--hub", help="Hub URL (default FXHUB_URL, http://127.0.0.1:50000).")
]
TokenOption = Annotated[
    str | None, typer.Option("--token", help="Hub token (default FXHUB_TOKEN or the token file).")
]
OutboxOption = Annotated[
    Path | None, typer.Option("--outbox", help="The durable outbox file (default: in the user data dir).")
]
SpeedOption = Annotated[
    float | None, typer.Option("--speed", min=0.001, help="Replay at this many times real time.")
]
DrainTimeoutOption = Annotated[
    float,
    typer.Option(
        "--drain-timeout",
        min=0.0,
        help="Seconds to push the outbox into the hub when stopping; what is left waits for the next run.",
    ),
]

logger = logging.getLogger(__name__)

DRAIN_TIMEOUT_SECONDS: Final = 30.0


def one_mode(command: str, **modes: bool) -> str:
    """The one mode chosen among flags like live/file/historical; a clear error for none or several."""
    chosen = [name for name, on in modes.items() if on]
    flags = ", ".join(f"--{name}" for name in modes)
    if len(chosen) != 1:
        raise ConfigError(
            f"`fxhub collect {command}` needs exactly one of {flags}, was "
            f"{', '.join('--' + c for c in chosen) or 'none'}."
        )
    return chosen[0]


def parse_pairs(values: list[str] | None, default: tuple[str, ...]) -> list[str]:
    """Pairs from repeated options or comma lists, upper-cased."""
    return [p.strip().upper() for item in (values or list(default)) for p in item.split(",") if p.strip()]


@contextmanager
def sink_to_hub(
    collector: str,
    hub: str | None,
    token: str | None,
    outbox: Path | None,
    console: Console,
    drain_timeout_s: float = DRAIN_TIMEOUT_SECONDS,
) -> Iterator[HubSink]:
    """The durable sink into the hub; on exit drains for up to `drain_timeout_s` and says what is left."""
    client = connect_to_data_hub(hub, token)
    sink = HubSink(outbox or default_outbox_path(collector), client)
    logger.info("%s collector: outbox %s, hub %s", collector, sink.outbox.path, client.url)
    try:
        yield sink
        sink.flush()
        console.print(f"{sink.queued:,} candles queued; pushing to {client.url} …")
    finally:
        began = time.monotonic()
        left = sink.close(drain_timeout_s)
        logger.info(
            "outbox drained: queued=%d pushed=%d left=%d seconds=%.1f outbox=%s",
            sink.queued,
            sink.stats.pushed,
            left,
            time.monotonic() - began,
            sink.outbox.path,
            extra={"queued": sink.queued, "pushed": sink.stats.pushed, "left": left},
        )
    console.print(
        f"{sink.stats.pushed:,} candles pushed, {left:,} left in the outbox "
        f"{sink.outbox.path} for the next run."
    )


def log_stop(stop: StopEvent, what: str) -> None:
    """Say once that `what` stops because of a signal (no-op when the event was not set by one)."""
    if stop.signal_name is not None:
        logger.info(
            "%s: stopping on %s; the minute in progress goes out incomplete, then the outbox drains",
            what,
            stop.signal_name,
            extra={"signal": stop.signal_name},
        )


def run_until_signal(run: Callable[[threading.Event], None]) -> None:
    """Run `run(stop)` until SIGINT or SIGTERM sets `stop`; the caller then finishes the minute and drains."""
    with stop_on_signals() as stop:
        run(stop)
