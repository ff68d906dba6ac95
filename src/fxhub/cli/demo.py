"""`fxhub demo`: the whole pipeline on a simulated market, on this machine, with no credentials.

Simulates a market, starts a hub (its own SQLite file and token in the demo folder), runs both
collectors through their durable outboxes with progress bars, then shows `fxhub check`'s report, what
`fxhub market EUR_USD` gives a strategy, and the dashboard's address; the hub stays up until Ctrl-C
(`--once`: exit after the report, non-zero if the check finds the pipeline unhealthy).
"""

from __future__ import annotations

import heapq
import os
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Final

import platformdirs
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from fxhub.cli.check import print_check_report
from fxhub.cli.collect.common import run_until_signal
from fxhub.cli.market import print_market_data
from fxhub.cli.simulate import print_result
from fxhub.collect import HubSink
from fxhub.errors import FxhubError
from fxhub.fetcher import UnifiedDataFetcher
from fxhub.hub.client import HubClient, connect_to_data_hub
from fxhub.hub.server.process import (
    HUB_ENV_SETTINGS,
    free_port,
    serve_command,
    stop_process,
    wait_until_answering,
)
from fxhub.ops import STALE_AFTER, CheckReport, MarketHours, check_pipeline, gather_snapshots
from fxhub.sim import SimulationConfig, simulate
from fxhub.sources.databento.files import open_dbn_files, replay_files
from fxhub.sources.databento.router import DatabentoBars
from fxhub.sources.ig.replay import IgBars, replay_quotes
from fxhub.sources.ig.vendor_files import read_quotes
from fxhub.sources.pacing import Pacer

__all__ = ["demo_command"]

# A Tuesday in the London–New York overlap: both sources busy, CME open.
DEMO_START: Final = datetime(2025, 11, 4, 13, 0, tzinfo=UTC)
DEMO_PORT: Final = 50000
HUB_START_TIMEOUT_S: Final = 30.0
HUB_STOP_TIMEOUT_S: Final = 15.0
PAIRS: Final = ("EUR_USD", "GBP_USD", "USD_JPY")


def demo_command(
    minutes: Annotated[int, typer.Option("--minutes", min=1, max=24 * 60, help="Minutes of market.")] = 60,
    speed: Annotated[
        float | None, typer.Option("--speed", min=0.001, help="Replay at this many times real time.")
    ] = None,
    once: Annotated[bool, typer.Option("--once", help="Run, report and exit (for scripts and CI).")] = False,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="The demo's folder (default: in the user data dir).")
    ] = None,
    port: Annotated[int, typer.Option("--port", help="Hub port; a free one if it is taken.")] = DEMO_PORT,
) -> None:
    """Simulate a market and run it through fxhub end to end: hub, both collectors, a report."""
    console = Console()
    folder = data_dir or Path(platformdirs.user_data_dir("fxhub")) / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    console.rule("fxhub demo")
    began = time.perf_counter()
    with console.status(f"simulating {minutes} minutes from {DEMO_START:%Y-%m-%d %H:%M} UTC…"):
        market = simulate(SimulationConfig(start=DEMO_START, minutes=minutes), folder / "market")
    print_result(console, market, time.perf_counter() - began)
    hub = _start_hub(folder, port if _port_free(port) else free_port())
    try:
        with connect_to_data_hub(hub.url, hub.token) as client:
            _collect(folder, client, speed, console, expected=minutes * len(PAIRS))
            # The check runs as if at the end of the simulated hour, so its clock agrees with the data.
            report = _check(client, DEMO_START + timedelta(minutes=minutes, seconds=20))
            console.rule("fxhub check")
            print_check_report(report, console)
            console.rule("fxhub market EUR_USD")
            fetcher = UnifiedDataFetcher(client)
            print_market_data(fetcher.get_market_data("EUR_USD", bars=min(60, minutes)), console)
        console.rule("the hub")
        console.print(f"Hub: {hub.url} (store {folder / 'hub.sqlite3'}; token in {hub.token_file}).")
        console.print(f"Dashboard: {hub.url}/ (it asks for the token: paste the line in {hub.token_file}).")
        console.print(
            f"Try: FXHUB_URL={hub.url} FXHUB_TOKEN_FILE={hub.token_file} "
            f'python -c "import fxhub; print(fxhub.connect_to_data_hub()'
            f".get_latest_candles('EUR_USD', limit=3))\""
        )
        if not report.ok:
            raise FxhubError("the demo pipeline is unhealthy: see fxhub check's findings above")
        if not once:
            console.print("The hub stays up: Ctrl-C stops it.")
            run_until_signal(_wait_forever)
    finally:
        hub.stop()


def _check(client: HubClient, moment: datetime) -> CheckReport:
    hours = MarketHours.at(moment)
    snapshots = gather_snapshots(client, list(PAIRS))
    return CheckReport(hub_url=client.url, hours=hours, pairs=check_pipeline(snapshots, hours, STALE_AFTER))


def _wait_forever(stop: threading.Event) -> None:
    stop.wait()


class _Hub:
    """The demo's hub process."""

    def __init__(self, process: subprocess.Popen[bytes], url: str, token_file: Path) -> None:
        self.process, self.url, self.token_file = process, url, token_file
        self.token = ""

    def stop(self) -> None:
        stop_process(self.process, HUB_STOP_TIMEOUT_S)


def _start_hub(folder: Path, port: int) -> _Hub:
    token_file = folder / "hub.token"
    env = {k: v for k, v in os.environ.items() if k not in HUB_ENV_SETTINGS}
    env["FXHUB_TOKEN_FILE"] = str(token_file)
    command = serve_command(port=port, store=str(folder / "hub.sqlite3"), log_level="WARNING")
    with (folder / "hub.log").open("ab") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    hub = _Hub(process, f"http://127.0.0.1:{port}", token_file)
    problem = wait_until_answering(process, hub.url, timeout_s=HUB_START_TIMEOUT_S)
    if problem is not None:
        hub.stop()
        raise FxhubError(f"the demo hub {problem}; see {folder / 'hub.log'}")
    hub.token = token_file.read_text().strip()
    return hub


def _collect(folder: Path, client: HubClient, speed: float | None, console: Console, expected: int) -> None:
    """Both collectors at once, each through its own durable outbox, as in production.

    The progress bars count candles pushed into the hub; `expected` is one per pair and minute.
    """
    market = folder / "market"
    errors: list[BaseException] = []
    sinks = {name: HubSink(folder / f"outbox-{name}.sqlite3", client) for name in ("databento", "ig")}

    def databento() -> None:
        with sinks["databento"] as sink:
            replay_files(
                open_dbn_files(sorted((market / "cme").glob("*.mbp-10.dbn.zst"))),
                DatabentoBars(sink),
                pacer=Pacer(speed),
            )

    def ig() -> None:
        with sinks["ig"] as sink:
            readers = [read_quotes(path) for path in sorted((market / "ig").glob("*.ticks.csv"))]
            merged = heapq.merge(*readers, key=lambda item: item[0].ts_event)
            replay_quotes(merged, IgBars(sink), pacer=Pacer(speed))

    def guarded(run: Callable[[], None]) -> None:
        try:
            run()
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=guarded, args=(job,), name=name)
        for name, job in (("databento-collector", databento), ("ig-collector", ig))
    ]
    columns = (TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        tasks = {
            "databento": progress.add_task("DATABENTO collector → hub", total=expected),
            "ig": progress.add_task("IG collector → hub", total=expected),
        }
        for thread in threads:
            thread.start()
        while any(thread.is_alive() for thread in threads):
            for name, task in tasks.items():
                progress.update(task, completed=sinks[name].stats.pushed)
            time.sleep(0.1)
        for name, task in tasks.items():
            pushed = sinks[name].stats.pushed
            progress.update(task, completed=pushed, total=max(expected, pushed))
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
