"""`fxhub demo`: the whole pipeline on a simulated market, on this machine, with no credentials.

Simulates a market, starts a hub (its own SQLite file and token in the demo folder), runs both
collectors through their durable outboxes, and reports what a strategy would find in the hub.
"""

from __future__ import annotations

import heapq
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Final

import httpx
import platformdirs
import typer
from rich.console import Console
from rich.table import Table

from fxhub.cli.collect.common import run_until_signal
from fxhub.cli.simulate import print_result
from fxhub.collect import HubSink
from fxhub.errors import FxhubError
from fxhub.hub.client import HubClient, connect_to_data_hub
from fxhub.model import Source
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
    hub = _start_hub(folder, port if _port_free(port) else _free_port())
    try:
        with connect_to_data_hub(hub.url, hub.token) as client:
            _collect(folder, client, speed, console)
            console.print(_report(client, DEMO_START, minutes))
        console.print(f"Hub: {hub.url} (store {folder / 'hub.sqlite3'}; token in {hub.token_file}).")
        console.print(
            f"Try: FXHUB_URL={hub.url} FXHUB_TOKEN_FILE={hub.token_file} "
            f'python -c "import fxhub; print(fxhub.connect_to_data_hub()'
            f".get_latest_candles('EUR_USD', limit=3))\""
        )
        if not once:
            console.print("The hub stays up: Ctrl-C stops it.")
            run_until_signal(_wait_forever)
    finally:
        hub.stop()


def _wait_forever(stop: threading.Event) -> None:
    stop.wait()


class _Hub:
    """The demo's hub process."""

    def __init__(self, process: subprocess.Popen[bytes], url: str, token_file: Path) -> None:
        self.process, self.url, self.token_file = process, url, token_file
        self.token = ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()


def _start_hub(folder: Path, port: int) -> _Hub:
    token_file = folder / "hub.token"
    env = {k: v for k, v in os.environ.items() if k not in ("FXHUB_TOKEN", "FXHUB_STORE")}
    env["FXHUB_TOKEN_FILE"] = str(token_file)
    log = (folder / "hub.log").open("ab")
    store = str(folder / "hub.sqlite3")
    command = [sys.executable, "-m", "fxhub", "serve", "--port", str(port), "--store", store,
               "--log-level", "WARNING"]  # fmt: skip
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        command,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    hub = _Hub(process, f"http://127.0.0.1:{port}", token_file)
    deadline = time.monotonic() + HUB_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise FxhubError(f"the demo hub exited (code {process.returncode}); see {folder / 'hub.log'}")
        try:
            if httpx.get(f"{hub.url}/healthz", timeout=1.0).status_code == 200:
                hub.token = token_file.read_text().strip()
                return hub
        except httpx.TransportError:
            time.sleep(0.1)
    hub.stop()
    raise FxhubError(
        f"the demo hub did not answer on {hub.url} within {HUB_START_TIMEOUT_S:.0f} s; "
        f"see {folder / 'hub.log'}"
    )


def _collect(folder: Path, client: HubClient, speed: float | None, console: Console) -> None:
    """Both collectors at once, each through its own durable outbox, as in production."""
    market = folder / "market"
    errors: list[BaseException] = []

    def databento() -> None:
        with HubSink(folder / "outbox-databento.sqlite3", client) as sink:
            replay_files(
                open_dbn_files(sorted((market / "cme").glob("*.mbp-10.dbn.zst"))),
                DatabentoBars(sink),
                pacer=Pacer(speed),
            )

    def ig() -> None:
        with HubSink(folder / "outbox-ig.sqlite3", client) as sink:
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
    with console.status("collectors replaying the market into the hub…"):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    if errors:
        raise errors[0]


def _report(client: HubClient, start: datetime, minutes: int) -> Table:
    counts = {(item.symbol, item.source): item.count for item in client.inventory()}
    table = Table(
        title=f"What the hub holds for {start:%Y-%m-%d %H:%M}–{start + timedelta(minutes=minutes):%H:%M} UTC"
    )
    for column in (
        "pair",
        "DATABENTO (real volume)",
        "IG (tick volume)",
        "latest DATABENTO candle",
        "verdict",
    ):
        table.add_column(column)
    for pair in PAIRS:
        real, tick = counts.get((pair, Source.DATABENTO), 0), counts.get((pair, Source.IG), 0)
        latest = client.get_latest_candles(pair, limit=1, source=Source.DATABENTO)
        shown = "—"
        if latest:
            c = latest[-1]
            shown = (
                f"{c.timestamp:%H:%M} O {c.open:g} H {c.high:g} L {c.low:g} C {c.close:g} "
                f"vol {c.volume:g} ({c.volume_type.value}, {c.instrument})"
            )
        verdict = "✅ has real trade volume" if real else "⚠️ waiting: no Databento candles yet"
        table.add_row(pair, f"{real:,}", f"{tick:,}", shown, verdict)
    return table


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
