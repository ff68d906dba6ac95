"""What `fxhub check` and `fxhub doctor` share on the command line: the pairs, the clock, findings as text."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Final

import typer
from rich.console import Console
from rich.markup import escape
from rich.padding import Padding
from rich.text import Text

from fxhub.cli.collect.common import parse_pairs
from fxhub.instruments import get_instrument, load_instruments
from fxhub.model import parse_utc_timestamp
from fxhub.ops import STALE_AFTER, Finding, MarketHours, Severity

__all__ = [
    "DEFAULT_STALE_AFTER_MINUTES",
    "ICONS",
    "JsonOption",
    "NowOption",
    "PairsOption",
    "StaleAfterOption",
    "print_finding",
    "print_summary",
    "scope",
]

ICONS: Final = {Severity.OK: "✅", Severity.WARN: "⚠️ ", Severity.ERROR: "❌"}
_INDENT: Final = (0, 0, 0, 3)
_STYLES: Final = {Severity.OK: "green", Severity.WARN: "yellow", Severity.ERROR: "bold red"}

PairsOption = Annotated[
    list[str] | None,
    typer.Option(
        "--pair", help="A pair to look at (repeat it, or a comma list); default every configured pair."
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the report as one JSON object.")]
NowOption = Annotated[
    str | None,
    typer.Option(
        "--now",
        help="Judge as of this time (ISO 8601 with a zone), not the clock: e.g. for a hub of replayed data.",
    ),
]
StaleAfterOption = Annotated[
    int,
    typer.Option(
        "--stale-after",
        min=1,
        help="Minutes a source may lag while its market trades before it counts as stale.",
    ),
]
DEFAULT_STALE_AFTER_MINUTES: Final = int(STALE_AFTER.total_seconds() // 60)


def scope(
    pairs: list[str] | None, now: str | None, stale_minutes: int
) -> tuple[list[str], MarketHours, timedelta]:
    """What a check looks at: the pairs, the market hours, the staleness limit.

    Every pair must be in the instrument table (else `ConfigError` naming the known ones); the hours are
    at `--now`, or at the clock's now.
    """
    chosen = parse_pairs(pairs, load_instruments().pairs)
    for pair in chosen:
        get_instrument(pair)
    moment = datetime.now(UTC) if now is None else parse_utc_timestamp(now, field="--now", where="fxhub")
    return chosen, MarketHours.at(moment), timedelta(minutes=stale_minutes)


def print_finding(console: Console, finding: Finding, prefix: str = "", *, icon: bool = True) -> None:
    """`✅ title` (no icon when the title has its own), then the detail and `→ what to do` beneath it."""
    style = _STYLES[finding.severity]
    mark = f"{ICONS[finding.severity]} " if icon else ""
    console.print(f"{mark}{escape(prefix)}[{style}]{escape(finding.title)}[/]", highlight=False)
    if finding.detail:
        _print_indented(console, Text(finding.detail, style="dim"))
    if finding.action:
        _print_indented(console, Text(f"→ {finding.action}"))


def _print_indented(console: Console, text: Text) -> None:
    """Wrapped beneath the title on a terminal; one line each in a pipe or a log, for grep."""
    if console.is_terminal:
        console.print(Padding(text, _INDENT, expand=False))
    else:
        console.print(Text(" " * _INDENT[3]) + text, soft_wrap=True)


def print_summary(console: Console, findings: Iterable[Finding], what: str) -> None:
    """One closing line: healthy, or how many errors and warnings."""
    counts = {severity: 0 for severity in Severity}
    for finding in findings:
        counts[finding.severity] += 1
    errors, warnings = counts[Severity.ERROR], counts[Severity.WARN]
    if errors:
        console.print(
            f"[bold red]❌ {what} unhealthy: {errors} error{'s' * (errors != 1)}, "
            f"{warnings} warning{'s' * (warnings != 1)}[/]"
        )
    elif warnings:
        console.print(f"[yellow]⚠️  {what} healthy, with {warnings} warning{'s' * (warnings != 1)}[/]")
    else:
        console.print(f"[green]✅ {what} healthy[/]")
