"""`fxhub simulate`: write a synthetic market as real vendor files."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from fxhub.model import parse_utc_timestamp
from fxhub.sim import SimulationConfig, SimulationResult, simulate

__all__ = ["print_result", "simulate_command"]

DEFAULT_PAIRS = ["EUR_USD", "GBP_USD", "USD_JPY"]


def simulate_command(
    out: Annotated[Path, typer.Option("--out", help="Folder to write into (created if missing).")],
    start: Annotated[
        str, typer.Option("--start", help="First minute, ISO 8601 with a zone, e.g. 2025-11-03T21:00:00Z.")
    ] = "2025-11-04T13:00:00Z",
    minutes: Annotated[
        int, typer.Option("--minutes", min=1, help="Minutes to simulate (up to 7 days).")
    ] = 60,
    seed: Annotated[
        int, typer.Option("--seed", help="Random seed: the same seed writes the same bytes.")
    ] = 7,
    pairs: Annotated[
        list[str] | None,
        typer.Option("--pairs", help="Pairs to simulate; repeat the option or separate with commas."),
    ] = None,
) -> None:
    """Simulate IG spot quotes and CME MBP-10 books (DBN) with a ground-truth file, deterministically."""
    names = tuple(
        p.strip().upper() for item in (pairs or DEFAULT_PAIRS) for p in item.split(",") if p.strip()
    )
    config = SimulationConfig(
        start=parse_utc_timestamp(start, field="--start", where="fxhub simulate"),
        minutes=minutes,
        seed=seed,
        pairs=names,
    )
    console = Console()
    began = time.perf_counter()
    with console.status("simulating…"):
        result = simulate(config, out)
    print_result(console, result, time.perf_counter() - began)


def print_result(console: Console, result: SimulationResult, seconds: float) -> None:
    """A table of what a simulation wrote and how many records each file holds."""
    table = Table(title=f"Simulated market in {result.out_dir} ({seconds:.1f} s)")
    table.add_column("file")
    table.add_column("records", justify="right")
    for path in result.files:
        count = result.counts.get(str(path.relative_to(result.out_dir)))
        table.add_row(str(path.relative_to(result.out_dir)), "" if count is None else f"{count:,}")
    console.print(table)
