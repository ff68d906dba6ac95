"""`fxhub collect ig`: spot candles with tick volume, live from IG or from tick files."""

from __future__ import annotations

import heapq
import time
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from fxhub.cli.collect.common import (
    DRAIN_TIMEOUT_SECONDS,
    DrainTimeoutOption,
    HubOption,
    OutboxOption,
    SpeedOption,
    TokenOption,
    log_stop,
    one_mode,
    parse_pairs,
    sink_to_hub,
)
from fxhub.cli.logs import LogFileOption, LogLevelOption, command_logging
from fxhub.cli.stopping import CutShort, ReplayStopped, StopEvent, StoppablePacer, stop_on_signals
from fxhub.collect import HubSink
from fxhub.errors import ConfigError
from fxhub.instruments import load_instruments
from fxhub.model import Quote
from fxhub.settings import load_settings
from fxhub.sources.ig.replay import IgBars, replay_quotes
from fxhub.sources.ig.rest import IgRestClient
from fxhub.sources.ig.vendor_files import read_quotes
from fxhub.sources.ig.vendor_frames import import_tick_files, read_tick_frames

__all__ = ["collect_ig"]


def collect_ig(
    ctx: typer.Context,
    paths: Annotated[
        list[Path] | None, typer.Argument(help="The tick files for --file.", show_default=False)
    ] = None,
    file: Annotated[
        bool, typer.Option("--file", help="Replay IG recordings or import vendor tick files.")
    ] = False,
    live: Annotated[
        bool, typer.Option("--live", help="Stream live quotes from IG (needs the IG_* settings).")
    ] = False,
    pairs: Annotated[
        list[str] | None, typer.Option("--pairs", help="Pairs to stream with --live (default: all three).")
    ] = None,
    record: Annotated[
        Path | None, typer.Option("--record", help="With --live: also record every quote into this folder.")
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="auto, fxhub, dukascopy, histdata or truefx.")
    ] = "auto",
    pair: Annotated[
        str | None, typer.Option("--pair", help="The pair of files that do not say (e.g. EUR_USD).")
    ] = None,
    speed: SpeedOption = None,
    hub: HubOption = None,
    token: TokenOption = None,
    outbox: OutboxOption = None,
    drain_timeout: DrainTimeoutOption = DRAIN_TIMEOUT_SECONDS,
    log_level: LogLevelOption = None,
    log_file: LogFileOption = None,
) -> None:
    """Spot candles with tick volume (source IG): live from IG, or from recordings and vendor tick files."""
    command_logging(ctx, log_level, log_file, default_level="INFO" if live else "WARNING")
    console = Console()
    if one_mode("ig", live=live, file=file) == "live":
        # Imported here, not at the top: lightstreamer-client-lib starts a pool of threads that poll
        # every millisecond as soon as it is imported, and every fxhub command (`fxhub serve` too)
        # imports this module.
        from fxhub.sources.ig.live import LiveIg, LiveIgConfig

        table = load_instruments()
        epics = tuple(table.get(name).ig_epic for name in parse_pairs(pairs, table.pairs))
        rest = IgRestClient.from_settings(load_settings())  # names every missing IG_* variable
        with (
            stop_on_signals() as stop,
            sink_to_hub("ig", hub, token, outbox, console, drain_timeout) as sink,
            LiveIg(rest, sink, LiveIgConfig(epics=epics, record_dir=record)) as feed,
        ):
            feed.start()
            console.print(f"streaming {', '.join(epics)} from IG; Ctrl-C or SIGTERM stops")
            feed.run(stop)
            log_stop(stop, "IG live")
        console.print(f"stopped: {feed.stats.quotes:,} quotes, {feed.stats.candles:,} candles")
        return
    if not paths:
        raise ConfigError("--file needs at least one path (IG recordings or vendor tick files).")
    # Vendor files without --speed are imported vectorised; recordings and paced replays go quote by quote.
    frames = [read_tick_frames(path, fmt=fmt, pair=pair) for path in paths] if speed is None else []
    vectorised = bool(frames) and all(frame.pair is not None for frame in frames)  # fails fast on a bad file
    readers = [] if vectorised else [read_quotes(path, fmt=fmt, pair=pair) for path in paths]
    began = time.perf_counter()
    # A vectorised import runs to its end; a replay stops on a signal (see fxhub.cli.stopping).
    stopping: AbstractContextManager[StopEvent] = (
        nullcontext(StopEvent()) if vectorised else stop_on_signals()
    )
    with stopping as stop, sink_to_hub("ig", hub, token, outbox, console, drain_timeout) as sink:
        with console.status(f"replaying {len(paths)} tick file(s)…"):
            if vectorised:
                quotes, late = import_tick_files(frames, sink)
            else:
                quotes, late = _replay(readers, sink, speed, stop)
        console.print(
            f"{quotes:,} quotes → candles in {time.perf_counter() - began:.1f} s; "
            f"{late:,} quotes of minutes already built were dropped"
        )


def _replay(
    readers: Sequence[Iterable[tuple[Quote, str | None]]], sink: HubSink, speed: float | None, stop: StopEvent
) -> tuple[int, int]:
    """Quote by quote in time order; returns (quotes, late quotes). A stop cuts the minute in progress."""
    handler = CutShort(sink)
    bars = IgBars(handler)
    merged = heapq.merge(*readers, key=lambda item: item[0].ts_event)  # files in time order
    try:
        quotes = replay_quotes(merged, bars, pacer=StoppablePacer(speed, stop))
    except ReplayStopped:
        log_stop(stop, "IG replay")
        handler.cut = True
        bars.flush()
        quotes = bars.quotes
    return quotes, sum(b.late_quotes for b in bars.builders.values())
