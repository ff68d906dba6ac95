"""`fxhub collect ig`: spot candles with tick volume, live from IG or from tick files."""

from __future__ import annotations

import heapq
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from fxhub.cli.collect.common import (
    HubOption,
    OutboxOption,
    SpeedOption,
    TokenOption,
    one_mode,
    parse_pairs,
    run_until_signal,
    sink_to_hub,
)
from fxhub.errors import ConfigError
from fxhub.instruments import load_instruments
from fxhub.settings import load_settings
from fxhub.sources.ig.live import LiveIg, LiveIgConfig
from fxhub.sources.ig.replay import IgBars, replay_quotes
from fxhub.sources.ig.rest import IgRestClient
from fxhub.sources.ig.vendor_files import read_quotes
from fxhub.sources.ig.vendor_frames import import_tick_files, read_tick_frames
from fxhub.sources.pacing import Pacer

__all__ = ["collect_ig"]


def collect_ig(
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
) -> None:
    """Spot candles with tick volume (source IG): live from IG, or from recordings and vendor tick files."""
    console = Console()
    if one_mode("ig", live=live, file=file) == "live":
        table = load_instruments()
        epics = tuple(table.get(name).ig_epic for name in parse_pairs(pairs, table.pairs))
        rest = IgRestClient.from_settings(load_settings())  # names every missing IG_* variable
        with (
            sink_to_hub("ig", hub, token, outbox, console) as sink,
            LiveIg(rest, sink, LiveIgConfig(epics=epics, record_dir=record)) as feed,
        ):
            feed.start()
            console.print(f"streaming {', '.join(epics)} from IG; Ctrl-C or SIGTERM stops")
            run_until_signal(feed.run)
        console.print(f"stopped: {feed.stats.quotes:,} quotes, {feed.stats.candles:,} candles")
        return
    if not paths:
        raise ConfigError("--file needs at least one path (IG recordings or vendor tick files).")
    # Vendor files without --speed are imported vectorised; recordings and paced replays go quote by quote.
    frames = [read_tick_frames(path, fmt=fmt, pair=pair) for path in paths] if speed is None else []
    vectorised = bool(frames) and all(frame.pair is not None for frame in frames)  # fails fast on a bad file
    readers = [] if vectorised else [read_quotes(path, fmt=fmt, pair=pair) for path in paths]
    began = time.perf_counter()
    with sink_to_hub("ig", hub, token, outbox, console) as sink:
        with console.status(f"replaying {len(paths)} tick file(s)…"):
            if vectorised:
                quotes, late = import_tick_files(frames, sink)
            else:
                bars = IgBars(sink)
                merged = heapq.merge(*readers, key=lambda item: item[0].ts_event)  # files in time order
                quotes = replay_quotes(merged, bars, pacer=Pacer(speed))
                late = sum(b.late_quotes for b in bars.builders.values())
        console.print(
            f"{quotes:,} quotes → candles in {time.perf_counter() - began:.1f} s; "
            f"{late:,} quotes of minutes already built were dropped"
        )
