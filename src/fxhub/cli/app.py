"""The `fxhub` command: one Typer app, a module per command group."""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from fxhub.cli import abtest, check, collect, demo, doctor, market, serve, simulate
from fxhub.cli.logs import LogFileOption, LogLevelOption, root_logging
from fxhub.errors import FxhubError

__all__ = ["app", "main"]

app = typer.Typer(
    name="fxhub",
    help="Market-data hub for FX scalpers: real CME futures volume first, spot tick volume as the fallback.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("simulate")(simulate.simulate_command)
app.command("demo")(demo.demo_command)
app.command("serve")(serve.serve_command)
app.command("market")(market.market_command)
app.command("check")(check.check_command)
app.command("doctor")(doctor.doctor_command)
app.command("ab-test")(abtest.abtest_command)
app.add_typer(collect.collect_app, name="collect")


@app.callback()
def _root(ctx: typer.Context, log_level: LogLevelOption = None, log_file: LogFileOption = None) -> None:
    root_logging(ctx, log_level, log_file)


def main() -> None:
    """Entry point: fxhub's own errors print as one clear line and exit 2, not as a traceback."""
    try:
        app()
    except FxhubError as exc:
        Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(2)
