"""`fxhub collect databento|ig`: run a collector that fills the hub through the durable outbox."""

from __future__ import annotations

import heapq
import logging
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.table import Table

from fxhub.collect import HubSink, default_outbox_path
from fxhub.core.bars import BarSpec
from fxhub.errors import ConfigError
from fxhub.hub.client import connect_to_data_hub
from fxhub.instruments import load_instruments
from fxhub.settings import load_settings
from fxhub.sources.databento.files import open_dbn_files, replay_files
from fxhub.sources.databento.router import DatabentoBars, RouterStats
from fxhub.sources.ig.live import LiveIg, LiveIgConfig
from fxhub.sources.ig.replay import IgBars, replay_quotes
from fxhub.sources.ig.rest import IgRestClient
from fxhub.sources.ig.vendor_files import read_quotes
from fxhub.sources.pacing import Pacer

__all__ = ["collect_app"]

logger = logging.getLogger(__name__)

collect_app = typer.Typer(help="Collect candles from a source into the hub.", no_args_is_help=True)

HubOption = Annotated[
    str | None, typer.Option("--hub", help="Hub URL (default FXHUB_URL, http://127.0.0.1:50000).")
]
TokenOption = Annotated[
    str | None, typer.Option("--token", help="Hub token (default FXHUB_TOKEN or the token file).")
]
OutboxOption = Annotated[
    Path | None, typer.Option("--outbox", help="The durable outbox file (default: in the user data dir).")
]


@collect_app.command("databento")
def collect_databento(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="The DBN files for --file.", show_default=False)
    ] = None,
    file: Annotated[
        bool,
        typer.Option("--file", help="Replay DBN files (mbp-10, mbp-1, tbbo or trades; .dbn or .dbn.zst)."),
    ] = False,
    price: Annotated[
        str, typer.Option("--price", help="OHLC from the book 'mid' (default) or from 'trade' prices.")
    ] = "mid",
    speed: Annotated[
        float | None, typer.Option("--speed", min=0.001, help="Replay at this many times real time.")
    ] = None,
    hub: HubOption = None,
    token: TokenOption = None,
    outbox: OutboxOption = None,
) -> None:
    """CME futures candles with real volume (source DATABENTO) from Databento files."""
    if not file or not paths:
        raise ConfigError("Nothing to collect: pass --file PATH... (one or more DBN files).")
    if price not in ("mid", "trade"):
        raise ConfigError(f"--price must be 'mid' or 'trade', was {price!r}.")
    price_basis: Literal["mid", "trade"] = "mid" if price == "mid" else "trade"
    console = Console()
    files = open_dbn_files(paths)
    client = connect_to_data_hub(hub, token)
    began = time.perf_counter()
    with HubSink(outbox or default_outbox_path("databento"), client) as sink:
        bars = DatabentoBars(sink, spec=BarSpec(price=price_basis))
        with console.status(f"replaying {len(files)} DBN file(s)…"):
            records = replay_files(files, bars, pacer=Pacer(speed))
        sink.flush()
        console.print(
            f"{records:,} records → {bars.stats.candles:,} candles in {time.perf_counter() - began:.1f} s; "
            f"pushing to {client.url} …"
        )
    console.print(_stats_table(bars.stats, sink.queued, sink.stats.pushed, sink.left or 0))


@collect_app.command("ig")
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
    speed: Annotated[
        float | None, typer.Option("--speed", min=0.001, help="Replay at this many times real time.")
    ] = None,
    hub: HubOption = None,
    token: TokenOption = None,
    outbox: OutboxOption = None,
) -> None:
    """Spot candles with tick volume (source IG): live from IG, or from recordings and vendor tick files."""
    if live:
        _collect_ig_live(pairs, record, hub, token, outbox)
        return
    if not file or not paths:
        raise ConfigError("Nothing to collect: pass --file PATH... (IG recordings or vendor tick files).")
    readers = [read_quotes(path, fmt=fmt, pair=pair) for path in paths]  # fails fast on a bad file
    console = Console()
    client = connect_to_data_hub(hub, token)
    began = time.perf_counter()
    with HubSink(outbox or default_outbox_path("ig"), client) as sink:
        bars = IgBars(sink)
        pacer = Pacer(speed)
        with console.status(f"replaying {len(paths)} tick file(s)…"):
            merged = heapq.merge(*readers, key=lambda item: item[0].ts_event)  # files in time order
            quotes = replay_quotes(merged, bars, pacer=pacer)
        sink.flush()
        console.print(
            f"{quotes:,} quotes → {sink.queued:,} candles in {time.perf_counter() - began:.1f} s; "
            f"pushing to {client.url} …"
        )
    late = sum(b.late_quotes for b in bars.builders.values())
    console.print(
        f"{sink.stats.pushed:,} candles pushed, {sink.left or 0:,} left in the outbox; "
        f"{late:,} quotes of minutes already built were dropped."
    )


def _collect_ig_live(
    pairs: list[str] | None, record: Path | None, hub: str | None, token: str | None, outbox: Path | None
) -> None:
    table = load_instruments()
    names = [p.strip().upper() for item in (pairs or list(table.pairs)) for p in item.split(",") if p.strip()]
    epics = tuple(table.get(name).ig_epic for name in names)
    rest = IgRestClient.from_settings(load_settings())  # names every missing IG_* variable
    client = connect_to_data_hub(hub, token)
    console = Console()
    with (
        HubSink(outbox or default_outbox_path("ig"), client) as sink,
        LiveIg(rest, sink, LiveIgConfig(epics=epics, record_dir=record)) as feed,
    ):
        feed.start()
        console.print(f"streaming {', '.join(names)} from IG into {client.url}; Ctrl-C or SIGTERM stops")
        run_until_signal(feed.run)
    console.print(
        f"stopped: {feed.stats.quotes:,} quotes, {feed.stats.candles:,} candles, "
        f"{sink.left or 0:,} left in the outbox"
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


def _stats_table(stats: RouterStats, queued: int, pushed: int, left: int) -> Table:
    table = Table(title="Databento collector")
    for column in ("symbol", "contract", "last minute (UTC)", "close", "volume"):
        table.add_column(column)
    for symbol, candle in sorted(stats.last_candle.items()):
        table.add_row(
            symbol,
            candle.instrument or "",
            f"{candle.timestamp:%Y-%m-%d %H:%M}",
            f"{candle.close:g}",
            f"{candle.volume:g}",
        )
    table.caption = (
        f"{stats.records:,} records, {stats.candles:,} candles, {queued:,} queued, {pushed:,} pushed, "
        f"{left:,} left in the outbox; skipped instruments: {len(stats.skipped_instruments)}"
    )
    return table
