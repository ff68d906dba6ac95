"""`fxhub check`: per pair, candles by source, the latest DATABENTO candle and a verdict; exit 1 when the
pipeline is unhealthy (hub unreachable, a pair without candles, no or stale real volume while CME trades),
so cron and monitoring can run it."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from fxhub.cli.collect.common import HubOption, TokenOption
from fxhub.cli.findings import (
    DEFAULT_STALE_AFTER_MINUTES,
    JsonOption,
    NowOption,
    PairsOption,
    StaleAfterOption,
    print_finding,
    print_summary,
    scope,
)
from fxhub.hub.client import HubError, connect_to_data_hub
from fxhub.model import Candle, Source
from fxhub.ops import CheckReport, check_pipeline, gather_snapshots, hub_failure
from fxhub.ops.clock import stamp

__all__ = ["check_command", "print_check_report"]


def check_command(
    pair: PairsOption = None,
    as_json: JsonOption = False,
    stale_minutes: StaleAfterOption = DEFAULT_STALE_AFTER_MINUTES,
    now: NowOption = None,
    hub: HubOption = None,
    token: TokenOption = None,
) -> None:
    """Candles by source per pair, as an operator checks the pipeline; exit 1 when it is unhealthy.

    Exit status: 0 healthy (warnings allowed), 1 unhealthy (hub unreachable or refusing the token, a pair
    without candles, no or stale DATABENTO candles while CME trades, stale IG while spot trades), 2 for a
    bad option.
    """
    pairs, hours, stale_after = scope(pair, now, stale_minutes)
    with connect_to_data_hub(hub, token) as client:
        try:
            snapshots = gather_snapshots(client, pairs)
        except HubError as error:
            report = CheckReport(hub_url=client.url, hours=hours, failure=hub_failure(client.url, error))
        else:
            reports = check_pipeline(snapshots, hours, stale_after)
            report = CheckReport(hub_url=client.url, hours=hours, pairs=reports)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        print_check_report(report, Console())
    raise typer.Exit(0 if report.ok else 1)


def print_check_report(report: CheckReport, console: Console) -> None:
    """The report as a table per pair, then each pair's findings and what to do."""
    hours = report.hours
    cme = "open" if hours.cme_open else f"closed, opens {stamp(hours.cme_next_open)}"
    console.print(
        f"[bold]fxhub check[/] of {escape(report.hub_url)} at {stamp(hours.now)}: CME {cme}; "
        f"spot FX {'open' if hours.fx_open else 'closed'}",
        highlight=False,
    )
    if report.failure is not None:
        print_finding(console, report.failure, icon=False)
        return
    table = Table()
    for column, justify in (
        ("pair", "left"),
        ("total", "right"),
        ("DATABENTO (real)", "right"),
        ("IG (tick)", "right"),
        ("latest DATABENTO candle", "left"),
        ("verdict", "left"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for pair in report.pairs:
        snap = pair.snapshot
        table.add_row(
            snap.pair,
            f"{snap.total:,}",
            f"{snap.count(Source.DATABENTO):,}",
            f"{snap.count(Source.IG):,}",
            _candle(snap.latest_databento),
            "\n".join(escape(finding.title) for finding in pair.findings),
        )
    console.print(table)
    for pair in report.pairs:
        for finding in pair.findings:
            print_finding(console, finding, prefix=f"{pair.snapshot.pair}: ", icon=False)
    print_summary(console, (f for pair in report.pairs for f in pair.findings), "pipeline")


def _candle(candle: Candle | None) -> str:
    if candle is None:
        return "—"
    return (
        f"{stamp(candle.timestamp)}\n"
        f"O {candle.open:g} H {candle.high:g} L {candle.low:g} C {candle.close:g}\n"
        f"volume {candle.volume:g} ({candle.volume_type.value}), {candle.source.value}"
        + (f" {candle.instrument}" if candle.instrument else "")
    )
