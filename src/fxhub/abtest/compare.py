"""Run one strategy on both variants and compare: per-variant figures, tests, trades needed, a verdict.

A trade is a win when it makes money after costs. The two variants trade the same prices, so when both
enter on the same candle in the same direction the two trades are a pair and McNemar's test compares
their outcomes; the two-proportion z test compares all trades. The verdict answers the question on win
rate (with expectancy beside it, because a higher win rate can still lose money) and says "not enough
trades to tell" when that is the honest answer.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd

from fxhub.abtest.backtest import BacktestResult, Costs, Trade, run_backtest
from fxhub.abtest.data import MarketBars
from fxhub.abtest.stats import (
    max_drawdown,
    mcnemar,
    profit_factor,
    trades_needed,
    two_proportion_ztest,
    wilson_interval,
)
from fxhub.abtest.strategy import Strategy

__all__ = ["ALPHA", "MIN_TRADES", "ABTestResult", "run_ab_test"]

ALPHA: Final = 0.05
POWER: Final = 0.8
MIN_TRADES: Final = 30  # below this per variant, no test is worth reading


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ABTestResult:
    bars: MarketBars
    results: tuple[BacktestResult, BacktestResult]
    summary: dict[str, Any]  # JSON-ready; see `run_ab_test`


def _iso(index: pd.DatetimeIndex, i: int) -> str:
    return str(index[i].strftime("%Y-%m-%dT%H:%M:%SZ"))


def _variant_summary(result: BacktestResult, index: pd.DatetimeIndex) -> dict[str, Any]:
    trades = result.trades
    net = [t.net_pips for t in trades]
    r = [t.r for t in trades]
    wins = sum(t.win for t in trades)
    n = len(trades)
    interval = wilson_interval(wins, n)
    mean_stop = float(np.mean([t.stop_pips for t in trades])) if trades else None
    return {
        "variant": result.variant.name,
        "label": result.variant.label,
        "weighting": result.variant.weighting,
        "trades": n,
        "wins": wins,
        "win_rate": wins / n if n else None,
        "win_rate_ci95": list(interval) if interval else None,
        "expectancy_pips": float(np.mean(net)) if n else None,
        "expectancy_r": float(np.mean(r)) if n else None,
        "total_pips": float(np.sum(net)),
        "profit_factor": profit_factor(net),
        "max_drawdown_pips": max_drawdown(net),
        "max_drawdown_r": max_drawdown(net) / mean_stop if mean_stop else 0.0,
        "long_trades": sum(t.side == "long" for t in trades),
        "short_trades": n - sum(t.side == "long" for t in trades),
        "exit_reasons": dict(sorted(Counter(t.exit_reason for t in trades).items())),
        "trade_list": [_trade(t, index) for t in trades],
    }


def _trade(trade: Trade, index: pd.DatetimeIndex) -> dict[str, Any]:
    return {
        "side": trade.side,
        "signal_time": _iso(index, trade.signal_index),
        "entry_time": _iso(index, trade.entry_index),
        "exit_time": _iso(index, trade.exit_index),
        "entry_price": trade.entry_price,
        "exit_price": trade.exit_price,
        "exit_reason": trade.exit_reason,
        "gross_pips": trade.gross_pips,
        "net_pips": trade.net_pips,
        "r": trade.r,
    }


def paired_outcomes(a: BacktestResult, b: BacktestResult) -> tuple[int, int, int]:
    """(pairs, b, c): trades entered on the same candle and side by both; b = A won and B lost, c = the
    reverse."""
    b_trades = {(t.entry_index, t.side): t for t in b.trades}
    pairs = won_a = won_b = 0
    for trade in a.trades:
        other = b_trades.get((trade.entry_index, trade.side))
        if other is None:
            continue
        pairs += 1
        won_a += trade.win and not other.win
        won_b += other.win and not trade.win
    return pairs, won_a, won_b


def _difference(a: dict[str, Any], b: dict[str, Any], paired: tuple[int, int, int]) -> dict[str, Any]:
    ztest = two_proportion_ztest(a["wins"], a["trades"], b["wins"], b["trades"])
    pairs, won_a, won_b = paired
    test = mcnemar(won_a, won_b) if pairs else None
    rates = (a["win_rate"], b["win_rate"])
    both = rates[0] is not None and rates[1] is not None
    return {
        "win_rate_diff": rates[0] - rates[1] if both else None,
        "expectancy_diff_pips": (a["expectancy_pips"] - b["expectancy_pips"]) if both else None,
        "two_proportion_ztest": None if ztest is None else {"z": ztest.z, "p_value": ztest.p_value},
        "paired": {
            "pairs": pairs,
            "a_won_b_lost": won_a,
            "a_lost_b_won": won_b,
            "test": None
            if test is None
            else {"method": test.method, "statistic": test.statistic, "p_value": test.p_value},
        },
        "trades_needed_per_variant": trades_needed(rates[0], rates[1], ALPHA, POWER) if both else None,
        "alpha": ALPHA,
        "power": POWER,
    }


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def verdict(a: dict[str, Any], b: dict[str, Any], diff: dict[str, Any]) -> str:
    """One plain sentence (or two) on the win rates, with expectancy beside them."""
    names = f"A ({a['label']}) vs B ({b['label']})"
    if min(a["trades"], b["trades"]) < MIN_TRADES:
        return (
            f"Not enough trades to tell: {names} made {a['trades']} and {b['trades']} trades; "
            f"at least {MIN_TRADES} each are needed before a test means anything."
        )
    rates = f"win rate {_pct(a['win_rate'])} vs {_pct(b['win_rate'])}"
    expectancy = f"expectancy {a['expectancy_pips']:+.2f} vs {b['expectancy_pips']:+.2f} pips per trade"
    p_values = [diff["two_proportion_ztest"]["p_value"]] if diff["two_proportion_ztest"] else []
    paired_test = diff["paired"]["test"]
    if paired_test is not None and diff["paired"]["pairs"] >= MIN_TRADES:
        p_values.append(paired_test["p_value"])
    if p_values and min(p_values) < ALPHA:
        better = "A" if a["win_rate"] > b["win_rate"] else "B"
        label = a["label"] if better == "A" else b["label"]
        return (
            f"{better} ({label}) wins more often: {rates} (p = {min(p_values):.3g} < {ALPHA}); "
            f"{expectancy}. Win rate is not expectancy: check both before switching."
        )
    needed = diff["trades_needed_per_variant"]
    p_text = f"p = {min(p_values):.3g}" if p_values else "no test possible"
    if needed is None or needed > min(a["trades"], b["trades"]):
        need = "an identical win rate" if needed is None else f"about {needed:,} trades per variant"
        return (
            f"Not enough trades to tell: {names}, {rates} ({p_text}); a difference this size needs "
            f"{need} to detect at {POWER:.0%} power, and there are {a['trades']} and {b['trades']}. "
            f"{expectancy.capitalize()}."
        )
    return (
        f"No difference detected: {names}, {rates} ({p_text}), with enough trades ({needed:,} per variant "
        f"would detect a gap this size at {POWER:.0%} power). {expectancy.capitalize()}."
    )


def run_ab_test(bars: MarketBars, make_strategy: Callable[[], Strategy], costs: Costs) -> ABTestResult:
    """Both variants of `bars` with a fresh strategy each, and the comparison as a JSON-ready summary.

    Summary keys: data (pair, origin, bars, first/last minute, anchor, price basis, real-volume
    coverage), strategy, costs, variants [A, B] (trades, wins, win_rate, win_rate_ci95, expectancy_pips,
    expectancy_r, total_pips, profit_factor, max_drawdown_pips/_r, exit_reasons, trade_list),
    difference (tests, trades needed), verdict.
    """
    strategy_a, strategy_b = make_strategy(), make_strategy()
    variant_a, variant_b = bars.variants
    results = (
        run_backtest(bars, variant_a, strategy_a, costs),
        run_backtest(bars, variant_b, strategy_b, costs),
    )
    index = pd.DatetimeIndex(bars.frame.index)
    a, b = (_variant_summary(result, index) for result in results)
    diff = _difference(a, b, paired_outcomes(*results))
    summary = {
        "data": {
            "pair": bars.pair,
            "origin": bars.origin,
            "time_label": bars.time_label,
            "bars": len(index),
            "first_minute": _iso(index, 0),
            "last_minute": _iso(index, len(index) - 1),
            "session_anchor": bars.anchor,
            "price_basis": bars.price_basis,
            "pip_size": bars.pip_size,
            "real_volume_coverage": bars.real_volume_coverage,
        },
        "strategy": strategy_a.name,
        "costs": {"spread_pips": costs.spread_pips, "commission_pips": costs.commission_pips},
        "variants": [a, b],
        "difference": diff,
        "verdict": verdict(a, b, diff),
    }
    return ABTestResult(bars=bars, results=results, summary=_finite(summary))


def _finite(value: Any) -> Any:
    """NaN and infinities as None, so the summary is strict JSON."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
