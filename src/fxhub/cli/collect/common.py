"""What every collector command shares: hub options, the sink, one-mode checks, running until a signal."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from fxhub.collect import HubSink, default_outbox_path
from fxhub.errors import ConfigError
from fxhub.hub.client import connect_to_data_hub

__all__ = [
    "HubOption",
    "OutboxOption",
    "SpeedOption",
    "TokenOption",
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
    collector: str, hub: str | None, token: str | None, outbox: Path | None, console: Console
) -> Iterator[HubSink]:
    """The durable sink into the hub; on exit drains what it can and says what is left."""
    client = connect_to_data_hub(hub, token)
    with HubSink(outbox or default_outbox_path(collector), client) as sink:
        yield sink
        sink.flush()
        console.print(f"{sink.queued:,} candles queued; pushing to {client.url} …")
    console.print(
        f"{sink.stats.pushed:,} candles pushed, {sink.left or 0:,} left in the outbox "
        f"{sink.outbox.path} for the next run."
    )


def run_until_signal(run: Callable[[threading.Event], None]) -> None:
    """Run `run(stop)` until SIGINT or SIGTERM sets `stop`; the caller then finishes the minute and drains."""
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        run(stop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
