"""`fxhub collect databento`: CME futures candles with real volume, from files, history or live."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Annotated

import platformdirs
import typer
from rich.console import Console
from rich.table import Table

from fxhub.cli.collect.common import (
    DRAIN_TIMEOUT_SECONDS,
    DrainTimeoutOption,
    HubOption,
    OutboxOption,
    SpeedOption,
    TokenOption,
    log_stop,
    one_mode,
    sink_to_hub,
)
from fxhub.cli.logs import LogFileOption, LogLevelOption, command_logging
from fxhub.cli.stopping import CutShort, ReplayStopped, StoppablePacer, stop_on_signals
from fxhub.core.bars import BarSpec
from fxhub.errors import ConfigError
from fxhub.model import parse_utc_timestamp
from fxhub.settings import load_settings
from fxhub.sources.databento.files import open_dbn_files, replay_files
from fxhub.sources.databento.historical import HistoricalRequest, download_range
from fxhub.sources.databento.router import DatabentoBars, RouterStats
from fxhub.sources.databento.session import LiveConfig
from fxhub.sources.databento.supervisor import LiveSupervisor

__all__ = ["collect_databento"]

DEFAULT_PARENTS = ("6E.FUT", "6B.FUT", "6J.FUT")


def collect_databento(
    ctx: typer.Context,
    paths: Annotated[
        list[Path] | None, typer.Argument(help="The DBN files for --file.", show_default=False)
    ] = None,
    file: Annotated[
        bool,
        typer.Option("--file", help="Replay DBN files (mbp-10, mbp-1, tbbo or trades; .dbn or .dbn.zst)."),
    ] = False,
    historical: Annotated[
        tuple[str, str] | None,
        typer.Option(
            "--historical",
            help="START END (ISO 8601 with a zone): download from Databento's "
            "Historical API — this COSTS MONEY — keep the raw DBN in --cache, and replay it.",
        ),
    ] = None,
    live: Annotated[
        bool, typer.Option("--live", help="Stream live from Databento (DATABENTO_API_KEY).")
    ] = False,
    symbols: Annotated[
        list[str] | None, typer.Option("--symbols", help="Parent symbols for --live/--historical (6E.FUT …).")
    ] = None,
    gateway: Annotated[
        str | None, typer.Option("--gateway", help="HOST:PORT of the live gateway (tests, relays).")
    ] = None,
    cache: Annotated[
        Path | None, typer.Option("--cache", help="Where --historical keeps its DBN files.")
    ] = None,
    historical_gateway: Annotated[
        str | None,
        typer.Option(
            "--historical-gateway",
            help="https:// URL of the Historical API for --historical (tests, relays); "
            "default Databento's own.",
        ),
    ] = None,
    price: Annotated[
        str, typer.Option("--price", help="OHLC from the book 'mid' (default) or from 'trade' prices.")
    ] = "mid",
    speed: SpeedOption = None,
    hub: HubOption = None,
    token: TokenOption = None,
    outbox: OutboxOption = None,
    drain_timeout: DrainTimeoutOption = DRAIN_TIMEOUT_SECONDS,
    log_level: LogLevelOption = None,
    log_file: LogFileOption = None,
) -> None:
    """CME futures candles with real volume (source DATABENTO): from DBN files, history, or live."""
    command_logging(ctx, log_level, log_file, default_level="INFO" if live else "WARNING")
    if price not in ("mid", "trade"):
        raise ConfigError(f"--price must be 'mid' or 'trade', was {price!r}.")
    spec = BarSpec(price="mid" if price == "mid" else "trade")
    parents = tuple(symbols or DEFAULT_PARENTS)
    console = Console()
    mode = one_mode("databento", file=file, historical=historical is not None, live=live)
    if historical_gateway is not None and mode != "historical":
        raise ConfigError(f"--historical-gateway applies to --historical only, was given with --{mode}.")
    if mode == "live":
        _live(parents, gateway, spec, hub, token, outbox, drain_timeout, console)
        return
    if mode == "historical":
        assert historical is not None
        request = HistoricalRequest(
            start=parse_utc_timestamp(historical[0], field="START", where="--historical"),
            end=parse_utc_timestamp(historical[1], field="END", where="--historical"),
            parents=parents,
        )
        key = LiveConfig(symbols=parents).resolve_api_key(load_settings())
        folder = cache or Path(platformdirs.user_cache_dir("fxhub")) / "databento"
        paths = [download_range(request, key, folder, gateway=historical_gateway)]
    if not paths:
        raise ConfigError("--file needs at least one DBN file.")
    files = open_dbn_files(paths)
    began = time.perf_counter()
    with (
        stop_on_signals() as stop,
        sink_to_hub("databento", hub, token, outbox, console, drain_timeout) as sink,
    ):
        handler = CutShort(sink)
        bars = DatabentoBars(handler, spec=spec)
        with console.status(f"replaying {len(files)} DBN file(s)…"):
            try:
                records = replay_files(files, bars, pacer=StoppablePacer(speed, stop))
            except ReplayStopped:  # a signal: the minute in progress goes out incomplete
                log_stop(stop, "Databento replay")
                handler.cut = True
                bars.flush()
                records = bars.stats.records
        console.print(
            f"{records:,} records → {bars.stats.candles:,} candles in {time.perf_counter() - began:.1f} s"
        )
    console.print(_stats_table(bars.stats))


def _live(
    parents: tuple[str, ...],
    gateway: str | None,
    spec: BarSpec,
    hub: str | None,
    token: str | None,
    outbox: Path | None,
    drain_timeout_s: float,
    console: Console,
) -> None:
    host, port = None, None
    if gateway is not None:
        host, _, port_text = gateway.rpartition(":")
        if not host or not port_text.isdigit():
            raise ConfigError(f"--gateway must be HOST:PORT such as 127.0.0.1:13000, was {gateway!r}")
        port = int(port_text)
    config = LiveConfig(symbols=parents, gateway=host, port=port, bar_spec=spec)
    with (
        stop_on_signals() as stop,
        sink_to_hub("databento", hub, token, outbox, console, drain_timeout_s) as sink,
    ):
        supervisor = LiveSupervisor(config, sink, settings=load_settings())  # a missing key fails here
        supervisor.start()
        console.print(f"streaming {', '.join(parents)} from Databento; Ctrl-C or SIGTERM stops")
        try:
            _wait(stop, supervisor)
            log_stop(stop, "Databento live")
        finally:
            supervisor.stop()  # the minute in progress goes out incomplete
    stats = supervisor.stats
    console.print(f"stopped: {stats.records:,} records, {stats.candles:,} candles, {len(stats.gaps)} gaps")


def _wait(stop: threading.Event, supervisor: LiveSupervisor) -> None:
    """Block until a signal arrives or the supervisor gives up (then re-raise why)."""
    while not stop.wait(1.0):
        if supervisor.error is not None:
            raise supervisor.error


def _stats_table(stats: RouterStats) -> Table:
    table = Table(title="Databento collector: the newest candle per symbol")
    for column in ("symbol", "contract", "minute (UTC)", "close", "volume"):
        table.add_column(column)
    for symbol, candle in sorted(stats.last_candle.items()):
        table.add_row(
            symbol,
            candle.instrument or "",
            f"{candle.timestamp:%Y-%m-%d %H:%M}",
            f"{candle.close:g}",
            f"{candle.volume:g}",
        )
    skipped = ", ".join(f"{iid} ({why})" for iid, why in sorted(stats.skipped_instruments.items())) or "none"
    table.caption = f"{stats.records:,} records, {stats.candles:,} candles; skipped instruments: {skipped}"
    return table
