"""`fxhub ab-test`: the VWAP-bounce scalper on real-volume VWAP (A) against tick-weighted VWAP or TWAP (B),
from a file of CME 1-minute bars or from the hub, with the statistics, a verdict, JSON and an HTML report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Final, cast

import typer
from rich.console import Console
from rich.table import Table

from fxhub.abtest.backtest import Costs
from fxhub.abtest.compare import run_ab_test
from fxhub.abtest.data import BarLabel, MarketBars, load_bar_file, load_from_hub
from fxhub.abtest.report import check_report_path, write_report
from fxhub.abtest.strategy import VwapBounce, VwapBounceConfig
from fxhub.cli.collect.common import HubOption, TokenOption
from fxhub.errors import ConfigError
from fxhub.hub.client import connect_to_data_hub
from fxhub.model import parse_utc_timestamp

__all__ = ["abtest_command"]


_LABELS: Final = ("auto", "open", "close")


def _load(
    file: Path | None,
    pair: str,
    label: str,
    period: tuple[str | None, str | None],
    hub: str | None,
    token: str | None,
) -> MarketBars:
    start, end = period
    if file is not None:
        if start is not None or end is not None:
            raise ConfigError(
                f"--file reads the whole file: expected no --start/--end with it, was --start {start!r} "
                f"--end {end!r}. Drop them, or drop --file to read the hub."
            )
        if label not in _LABELS:
            raise ConfigError(f"--label must be one of {', '.join(_LABELS)}, was {label!r}.")
        return load_bar_file(file, pair, cast(BarLabel, label))
    if start is None or end is None:
        raise ConfigError(
            "ab-test needs bars: expected --file PATH, or --start and --end (ISO 8601, UTC) to read the "
            f"hub, was --start {start!r} --end {end!r}."
        )
    begin = parse_utc_timestamp(start, field="--start", where="ab-test")
    finish = parse_utc_timestamp(end, field="--end", where="ab-test")
    if finish <= begin:
        raise ConfigError(f"--end must be after --start ({start}), was {end!r}.")
    with connect_to_data_hub(hub, token) as client:
        return load_from_hub(client, pair, begin, finish)


def abtest_command(
    file: Annotated[
        Path | None,
        typer.Option("--file", help="CSV of CME 1-minute bars: timestamp, open, high, low, close, volume."),
    ] = None,
    pair: Annotated[str, typer.Option("--pair", help="The pair (the file's future is on it).")] = "EUR_USD",
    label: Annotated[
        str,
        typer.Option(
            "--label", help="The file stamps bars with their open or close time: auto, open, close."
        ),
    ] = "auto",
    start: Annotated[str | None, typer.Option("--start", help="Hub period start, ISO 8601 UTC.")] = None,
    end: Annotated[
        str | None, typer.Option("--end", help="Hub period end (exclusive), ISO 8601 UTC.")
    ] = None,
    json_path: Annotated[Path | None, typer.Option("--json", help="Write the summary as JSON here.")] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write an HTML report here (.html).")
    ] = None,
    band_sigmas: Annotated[float, typer.Option("--band-sigmas", help="Entry band: VWAP ± k·σ.")] = 2.0,
    stop_pips: Annotated[float, typer.Option("--stop-pips", help="Stop distance in pips.")] = 6.0,
    target_pips: Annotated[float, typer.Option("--target-pips", help="Target distance in pips.")] = 6.0,
    max_hold_bars: Annotated[int, typer.Option("--max-hold-bars", help="Exit after this many candles.")] = 30,
    spread_pips: Annotated[float, typer.Option("--spread-pips", help="Spread per round trip, pips.")] = 0.5,
    commission_pips: Annotated[
        float, typer.Option("--commission-pips", help="Commission per round trip, pips.")
    ] = 0.3,
    hub: HubOption = None,
    token: TokenOption = None,
) -> None:
    """A/B test: does real volume beat tick volume (or TWAP) for a VWAP-bounce scalper?"""
    if report is not None:
        check_report_path(report)
    if json_path is not None and not json_path.parent.is_dir():
        raise ConfigError(f"--json's folder must exist, was {str(json_path.parent)!r}. Create it first.")
    pair = pair.strip().upper()
    config = VwapBounceConfig(
        band_sigmas=band_sigmas, stop_pips=stop_pips, target_pips=target_pips, max_hold_bars=max_hold_bars
    )
    costs = Costs(spread_pips=spread_pips, commission_pips=commission_pips)
    bars = _load(file, pair, label, (start, end), hub, token)
    result = run_ab_test(bars, lambda: VwapBounce(bars.pip_size, config), costs)
    _print(result.summary, Console(soft_wrap=True))
    if json_path is not None:
        json_path.write_text(json.dumps(result.summary, indent=2, allow_nan=False) + "\n", encoding="utf-8")
        typer.echo(f"summary written to {json_path}")
    if report is not None:
        write_report(result.summary, report)
        typer.echo(f"report written to {report}")


def _fmt(value: Any, pattern: str = "{:.3f}") -> str:
    if value is None:
        return "—"
    return pattern.format(value)


def _print(summary: dict[str, Any], console: Console) -> None:
    data = summary["data"]
    console.print(
        f"[bold]{data['pair']}[/] {data['first_minute']} → {data['last_minute']}: {data['bars']:,} bars "
        f"from {data['origin']} ({data['price_basis']} prices, {data['session_anchor']} sessions; "
        f"bar times: {data['time_label']})",
        highlight=False,
    )
    costs = summary["costs"]
    console.print(
        f"strategy {summary['strategy']}; costs {costs['spread_pips']} + {costs['commission_pips']} pips "
        "per round trip",
        highlight=False,
    )
    table = Table(title="variants")
    table.add_column("")
    for v in summary["variants"]:
        table.add_column(f"{v['variant']}: {v['label']}", justify="right")
    rows = (
        ("trades", "trades", "{:d}"),
        ("win rate", "win_rate", "{:.1%}"),
        ("expectancy (pips)", "expectancy_pips", "{:+.3f}"),
        ("expectancy (R)", "expectancy_r", "{:+.3f}"),
        ("profit factor", "profit_factor", "{:.3f}"),
        ("max drawdown (pips)", "max_drawdown_pips", "{:.1f}"),
        ("total (pips)", "total_pips", "{:+.1f}"),
    )
    for name, key, pattern in rows:
        table.add_row(name, *(_fmt(v[key], pattern) for v in summary["variants"]))
    table.add_row(
        "win rate 95% CI",
        *(
            "—" if v["win_rate_ci95"] is None else "{:.1%} – {:.1%}".format(*v["win_rate_ci95"])
            for v in summary["variants"]
        ),
    )
    console.print(table)
    diff = summary["difference"]
    z = diff["two_proportion_ztest"]
    console.print(
        "two-proportion z test: " + (f"z = {z['z']:.3f}, p = {z['p_value']:.4g}" if z else "not defined"),
        highlight=False,
    )
    paired = diff["paired"]
    test = paired["test"]
    console.print(
        f"paired (same candle and side): {paired['pairs']} pairs, A won/B lost {paired['a_won_b_lost']}, "
        f"A lost/B won {paired['a_lost_b_won']}"
        + (f"; McNemar ({test['method']}) p = {test['p_value']:.4g}" if test else "; no paired test"),
        highlight=False,
    )
    console.print(
        "trades per variant to detect the observed difference (α 0.05, power 0.8): "
        + _fmt(diff["trades_needed_per_variant"], "{:,}"),
        highlight=False,
    )
    console.print(f"[bold]verdict:[/] {summary['verdict']}", highlight=False)
