"""`fxhub doctor`: the troubleshooting guide as a command. Reads the hub, the settings and the clock, lists
what it found with what to do, and exits 1 when any finding is an error."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

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
from fxhub.errors import ConfigError
from fxhub.hub.client import connect_to_data_hub
from fxhub.ops import HubProbe, diagnose, healthy, probe_hub
from fxhub.ops.clock import stamp
from fxhub.settings import Settings, load_settings

__all__ = ["doctor_command"]


def doctor_command(
    pair: PairsOption = None,
    bars: Annotated[
        int,
        typer.Option("--bars", min=1, max=10_000, help="Minutes in a strategy's window (as `fxhub market`)."),
    ] = 60,
    as_json: JsonOption = False,
    stale_minutes: StaleAfterOption = DEFAULT_STALE_AFTER_MINUTES,
    now: NowOption = None,
    hub: HubOption = None,
    token: TokenOption = None,
) -> None:
    """Why the pipeline is not giving real volume: hub, token, keys, market hours, collectors, coverage.

    Every finding says what to do. Exit status: 0 when no finding is an error, 1 otherwise, 2 for a bad
    option.
    """
    pairs, hours, stale_after = scope(pair, now, stale_minutes)
    settings: Settings | None = None
    settings_error: str | None = None
    try:
        settings = load_settings()
    except ConfigError as error:
        settings_error = str(error)
    try:
        with connect_to_data_hub(hub, token) as client:
            probe = probe_hub(client, pairs, bars)
    except ConfigError as error:  # a malformed --hub or FXHUB_URL: nothing to connect to
        probe = HubProbe(url=hub or (settings.fxhub_url if settings else "FXHUB_URL"), unreachable=str(error))
    findings = diagnose(
        probe,
        settings,
        hours,
        bars=bars,
        settings_error=settings_error,
        stale_after=stale_after,
    )
    ok = healthy(findings)
    if as_json:
        body = {
            "ok": ok,
            "hub": probe.url,
            "now": f"{hours.now:%Y-%m-%dT%H:%M:%SZ}",
            "findings": [finding.to_dict() for finding in findings],
        }
        typer.echo(json.dumps(body, indent=2, ensure_ascii=False))
    else:
        console = Console()
        console.print(f"[bold]fxhub doctor[/] for {escape(probe.url)} at {stamp(hours.now)}", highlight=False)
        for finding in findings:
            print_finding(console, finding)
        print_summary(console, findings, "pipeline")
    raise typer.Exit(0 if ok else 1)
