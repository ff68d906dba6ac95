"""The A/B-test report: one self-contained HTML file (plotly's JavaScript embedded, works offline).

It shows the verdict, a table of both variants' figures and the tests, the two equity curves (net pips
after costs, at each trade's exit) and the two win rates with their 95 % Wilson intervals. Only HTML is
written: a PNG would need kaleido and a headless browser, which fxhub does not ship.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from fxhub.errors import ConfigError

__all__ = ["REPORT_SUFFIXES", "check_report_path", "write_report"]

REPORT_SUFFIXES: Final = (".html", ".htm")
_COLOURS: Final = ("#1f77b4", "#ff7f0e")


def check_report_path(path: Path) -> None:
    """Refuse a report path fxhub cannot write before any work is done."""
    if path.suffix.lower() not in REPORT_SUFFIXES:
        raise ConfigError(
            f"--report takes an .html path (a self-contained interactive page), was {str(path)!r}. "
            "PNG needs kaleido and a browser, which fxhub does not ship: write HTML and screenshot it."
        )
    if not path.parent.is_dir():
        raise ConfigError(f"--report's folder must exist, was {str(path.parent)!r}. Create it first.")


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_cell(v) for v in value) + "]"
    return html.escape(str(value))


_ROWS: Final = (
    ("VWAP weighting", "weighting"),
    ("trades", "trades"),
    ("wins", "wins"),
    ("win rate", "win_rate"),
    ("win rate 95% (Wilson)", "win_rate_ci95"),
    ("expectancy (pips)", "expectancy_pips"),
    ("expectancy (R)", "expectancy_r"),
    ("total (pips)", "total_pips"),
    ("profit factor", "profit_factor"),
    ("max drawdown (pips)", "max_drawdown_pips"),
    ("max drawdown (R)", "max_drawdown_r"),
)


def _table(variants: Sequence[dict[str, Any]]) -> str:
    head = "".join(f"<th>{html.escape(v['variant'])}: {html.escape(v['label'])}</th>" for v in variants)
    rows = "".join(
        f"<tr><th>{name}</th>" + "".join(f"<td>{_cell(v[key])}</td>" for v in variants) + "</tr>"
        for name, key in _ROWS
    )
    return f"<table><tr><th></th>{head}</tr>{rows}</table>"


def _tests(diff: dict[str, Any]) -> str:
    z = diff["two_proportion_ztest"]
    paired = diff["paired"]
    test = paired["test"]
    items = [
        "two-proportion z test: "
        + (f"z = {z['z']:.3f}, p = {z['p_value']:.4g}" if z else "not defined for these counts"),
        f"paired trades (same candle, same side): {paired['pairs']}, discordant "
        f"{paired['a_won_b_lost']} (A won) / {paired['a_lost_b_won']} (B won)"
        + (f"; McNemar ({test['method']}): p = {test['p_value']:.4g}" if test else ""),
        "trades per variant to detect the observed difference (α 0.05, power 0.8): "
        + _cell(diff["trades_needed_per_variant"]),
    ]
    return "<ul>" + "".join(f"<li>{html.escape(item)}</li>" for item in items) + "</ul>"


def _figure(summary: dict[str, Any]) -> Any:
    import plotly.graph_objects as go  # type: ignore[import-untyped]  # no stubs; imported when used
    from plotly.subplots import make_subplots  # type: ignore[import-untyped]

    figure = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.72, 0.28],
        subplot_titles=("Equity after costs (pips)", "Win rate with 95% interval"),
    )
    for colour, v in zip(_COLOURS, summary["variants"], strict=True):
        name = f"{v['variant']}: {v['label']}"
        times = [summary["data"]["first_minute"]] + [t["exit_time"] for t in v["trade_list"]]
        equity = [0.0]
        for trade in v["trade_list"]:
            equity.append(equity[-1] + trade["net_pips"])
        figure.add_trace(
            go.Scatter(x=times, y=equity, mode="lines", name=name, line={"color": colour, "shape": "hv"}),
            row=1,
            col=1,
        )
        interval = v["win_rate_ci95"]
        if v["win_rate"] is not None and interval is not None:
            error = {"type": "data", "symmetric": False}
            error |= {"array": [interval[1] - v["win_rate"]], "arrayminus": [v["win_rate"] - interval[0]]}
            figure.add_trace(
                go.Scatter(
                    x=[name],
                    y=[v["win_rate"]],
                    mode="markers",
                    marker={"color": colour, "size": 12},
                    error_y=error,
                    name=f"{name} win rate",
                    showlegend=False,
                ),
                row=1,
                col=2,
            )
    figure.update_yaxes(title_text="net pips", row=1, col=1)
    figure.update_yaxes(title_text="win rate", tickformat=".0%", row=1, col=2)
    figure.update_layout(height=520, margin={"t": 60, "l": 60, "r": 20, "b": 40})
    return figure


def write_report(summary: dict[str, Any], path: Path) -> Path:
    """Write the HTML report of `run_ab_test`'s summary to `path` (an .html path) and return it."""
    check_report_path(path)
    import plotly.io as pio  # type: ignore[import-untyped]

    data = summary["data"]
    title = f"A/B test: {data['pair']} {data['first_minute']} to {data['last_minute']}"
    chart = pio.to_html(_figure(summary), include_plotlyjs=True, full_html=False)
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;margin:2em}} table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 10px;text-align:right}} .verdict{{font-size:1.15em}}</style>
</head><body>
<h1>{html.escape(title)}</h1>
<p class="verdict"><strong>Verdict:</strong> {html.escape(summary["verdict"])}</p>
<p>Strategy {html.escape(summary["strategy"])}; costs {summary["costs"]["spread_pips"]} pips spread +
{summary["costs"]["commission_pips"]} pips commission per round trip; {data["bars"]} bars from
{html.escape(data["origin"])} ({html.escape(data["price_basis"])} prices,
{html.escape(data["session_anchor"])} sessions).</p>
{_table(summary["variants"])}
{_tests(summary["difference"])}
{chart}
</body></html>
"""
    path.write_text(page, encoding="utf-8")
    return path
