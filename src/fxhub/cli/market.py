"""`fxhub market PAIR`: what a strategy would get from `UnifiedDataFetcher` — the chosen source and why,
the last candles, the indicators — as tables or as JSON."""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from fxhub.cli.collect.common import HubOption, TokenOption
from fxhub.errors import ConfigError
from fxhub.fetcher import POLICIES, SelectionPolicy, UnifiedDataFetcher
from fxhub.hub.client import connect_to_data_hub

__all__ = ["market_command", "market_data_json", "print_market_data"]

_SHOWN_CANDLES = 10


def market_command(
    pair: Annotated[str, typer.Argument(help="The pair, e.g. EUR_USD.")],
    bars: Annotated[int, typer.Option("--bars", min=1, max=10_000, help="Minutes in the window.")] = 60,
    policy: Annotated[
        str,
        typer.Option("--policy", help="auto (DATABENTO from the threshold, else IG), databento, ig, hybrid."),
    ] = "auto",
    threshold: Annotated[
        float, typer.Option("--threshold", help="Share of the window DATABENTO must cover under auto.")
    ] = 0.5,
    basis_adjust: Annotated[
        bool, typer.Option("--basis-adjust", help="Shift DATABENTO's futures prices to spot by the basis.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print everything as one JSON object.")] = False,
    hub: HubOption = None,
    token: TokenOption = None,
) -> None:
    """The unified market data and indicators a strategy would get for PAIR."""
    if policy not in POLICIES:
        raise ConfigError(f"--policy must be one of {', '.join(POLICIES)}, was {policy!r}")
    chosen_policy = SelectionPolicy(policy=policy, threshold=threshold, basis_adjust=basis_adjust)  # type: ignore[arg-type]
    with connect_to_data_hub(hub, token) as client:
        result = UnifiedDataFetcher(client, policy=chosen_policy).get_market_data(pair, bars=bars)
    if as_json:
        typer.echo(json.dumps(market_data_json(result), indent=2, allow_nan=False))
        return
    print_market_data(result, Console())


def market_data_json(result: dict[str, Any]) -> dict[str, Any]:
    """`get_market_data`'s dict as plain JSON values: candles as records, times as ISO 8601 UTC."""
    candles: pd.DataFrame = result["candles"]
    records = []
    for timestamp, row in zip(candles.index, candles.to_dict("records"), strict=True):
        records.append({"timestamp": _iso(timestamp)} | {k: _plain(v) for k, v in row.items()})
    out = {key: _plain(value) for key, value in result.items() if key != "candles"}
    out["candles"] = records
    return out


def _iso(moment: datetime) -> str:
    return pd.Timestamp(moment).tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return _iso(value)
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NA:
        return None
    return value


def print_market_data(result: dict[str, Any], console: Console) -> None:
    """`get_market_data`'s result for a person: the selection and why, the last candles, the indicators."""
    selection = result["selection"]
    console.print(
        f"[bold]{result['pair']}[/] as of {_iso(result['as_of'])}: [bold]{selection['chosen']}[/] "
        f"(policy {selection['policy']}, threshold {selection['threshold']:.0%})"
    )
    console.print(f"why: {selection['reason']}", highlight=False)
    coverage = ", ".join(
        f"{name} {cov['minutes']}/{cov['bars']}" for name, cov in selection["coverage"].items()
    )
    console.print(f"coverage: {coverage}", highlight=False)
    console.print(
        f"volume: {result['volume_source']}; prices: {result['price_basis']}",
        highlight=False,
    )
    if result.get("basis"):
        console.print(f"basis: {result['basis']}", highlight=False)
    candles: pd.DataFrame = result["candles"].tail(_SHOWN_CANDLES)
    table = Table(title=f"last {len(candles)} of {len(result['candles'])} candles")
    columns = ("open", "high", "low", "close", "volume", "volume_type")
    table.add_column("minute (UTC)")
    for name in columns:
        table.add_column(name, justify="right")
    for timestamp, row in candles.iterrows():
        table.add_row(_iso(timestamp), *(_cell(row[name]) for name in columns))  # type: ignore[arg-type]
    console.print(table)
    indicators = Table(title="indicators")
    indicators.add_column("name")
    indicators.add_column("value", justify="right")
    for name, value in result["indicators"].items():
        if name == "series":
            continue
        indicators.add_row(name, _cell(value))
    console.print(indicators)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return f"{value:.6g}" if abs(value) >= 1000 else f"{value:.6f}".rstrip("0").rstrip(".")
    if isinstance(value, dict):
        return ", ".join(f"{k}={_cell(v)}" for k, v in value.items())
    return str(value)
