"""Both variants compared: summary figures follow from the trades, pairing, and the verdicts."""

from __future__ import annotations

import json
from typing import Any

import pytest

from fxhub.abtest.backtest import BacktestResult, Costs, Trade
from fxhub.abtest.compare import MIN_TRADES, paired_outcomes, run_ab_test, verdict
from fxhub.abtest.data import MarketBars, Variant
from fxhub.abtest.stats import max_drawdown, wilson_interval
from fxhub.abtest.strategy import VwapBounce


@pytest.fixture(scope="module")
def real_summary(real_bars: MarketBars) -> dict[str, Any]:
    return run_ab_test(real_bars, lambda: VwapBounce(real_bars.pip_size), Costs()).summary


def test_summary_figures_follow_from_the_trade_list(real_summary: dict[str, Any]) -> None:
    json.dumps(real_summary, allow_nan=False)  # strict JSON
    for v in real_summary["variants"]:
        net = [t["net_pips"] for t in v["trade_list"]]
        wins = sum(x > 0 for x in net)
        assert v["trades"] == len(net) >= MIN_TRADES
        assert v["wins"] == wins
        assert v["win_rate_ci95"] == pytest.approx(list(wilson_interval(wins, len(net)) or ()))
        assert v["expectancy_pips"] == pytest.approx(sum(net) / len(net))
        assert v["expectancy_r"] == pytest.approx(sum(t["r"] for t in v["trade_list"]) / len(net))
        assert v["max_drawdown_pips"] == pytest.approx(max_drawdown(net))
        assert all(t["entry_time"] > t["signal_time"] for t in v["trade_list"])
    assert [v["label"] for v in real_summary["variants"]] == ["true_vwap", "twap"]
    assert real_summary["verdict"]


def _trade(entry: int, net: float, side: str = "long") -> Trade:
    return Trade(
        side=side,  # type: ignore[arg-type]
        signal_index=entry - 1,
        entry_index=entry,
        exit_index=entry + 1,
        entry_price=1.1,
        exit_price=1.1,
        exit_reason="stop",
        stop_pips=5.0,
        gross_pips=net,
        cost_pips=0.0,
        net_pips=net,
        r=net / 5.0,
    )


def _result(name: str, trades: list[Trade]) -> BacktestResult:
    variant = Variant(name=name, label="true_vwap" if name == "A" else "twap", weighting="", weights=None)  # type: ignore[arg-type]
    return BacktestResult(variant=variant, trades=tuple(trades), decisions=(), bars=100)


def test_paired_outcomes_match_trades_on_the_same_candle_and_side() -> None:
    a = _result("A", [_trade(1, 5.0), _trade(5, -5.0), _trade(9, 5.0), _trade(20, 5.0)])
    b = _result("B", [_trade(1, -5.0), _trade(5, 5.0), _trade(9, 5.0), _trade(20, 5.0, "short")])
    assert paired_outcomes(a, b) == (3, 1, 1)


def _side(label: str, trades: int, wins: int, expectancy: float = 0.1) -> dict[str, Any]:
    return {
        "label": label,
        "trades": trades,
        "wins": wins,
        "win_rate": wins / trades,
        "expectancy_pips": expectancy,
    }


def _diff(
    p: float | None, needed: int | None, pairs: int = 0, paired_p: float | None = None
) -> dict[str, Any]:
    return {
        "two_proportion_ztest": None if p is None else {"z": 1.0, "p_value": p},
        "paired": {"pairs": pairs, "test": None if paired_p is None else {"p_value": paired_p}},
        "trades_needed_per_variant": needed,
    }


def test_verdict_with_few_trades_is_not_enough_to_tell() -> None:
    text = verdict(_side("true_vwap", 12, 8), _side("twap", 40, 20), _diff(0.2, 300))
    assert text.startswith("Not enough trades to tell")
    assert "12 and 40" in text


def test_verdict_names_the_winner_when_the_test_is_significant() -> None:
    text = verdict(_side("true_vwap", 900, 540), _side("twap", 900, 470), _diff(0.001, 800))
    assert text.startswith("A (true_vwap) wins more often")
    assert "Win rate is not expectancy" in text


def test_verdict_counts_a_significant_paired_test_with_enough_pairs() -> None:
    text = verdict(_side("true_vwap", 200, 110), _side("tick_vwap", 200, 100), _diff(0.3, 2000, 150, 0.01))
    assert text.startswith("A (true_vwap) wins more often")


def test_verdict_when_too_few_trades_for_the_observed_difference() -> None:
    text = verdict(_side("true_vwap", 250, 100), _side("twap", 270, 126), _diff(0.17, 1096))
    assert text.startswith("Not enough trades to tell")
    assert "about 1,096 trades per variant" in text


def test_verdict_when_enough_trades_and_no_significant_difference() -> None:
    text = verdict(_side("true_vwap", 3000, 1500), _side("twap", 3000, 1530), _diff(0.44, 2500))
    assert text.startswith("No difference detected")
