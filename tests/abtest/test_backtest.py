"""The backtester: fills at the next open, bracket rules, costs, and no look-ahead on the real month."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pytest

from fxhub.abtest.backtest import Costs, run_backtest
from fxhub.abtest.data import MarketBars
from fxhub.abtest.strategy import Entry, Exit, Order, VwapBounce
from fxhub.errors import ValidationError
from fxhub.model import Candle

Bars = Callable[..., MarketBars]
FLAT = (1.1000, 1.1001, 1.0999, 1.1000)
NO_COSTS = Costs(spread_pips=0.0, commission_pips=0.0)


class Scripted:
    """Returns the given orders at the given candle numbers and records what it was shown."""

    name = "scripted"

    def __init__(self, script: Mapping[int, Sequence[Order]]) -> None:
        self.script = script
        self.seen: list[tuple[Candle, dict[str, Any]]] = []

    def on_candle(self, candle: Candle, market: Mapping[str, Any]) -> Sequence[Order]:
        self.seen.append((candle, dict(market)))
        return self.script.get(len(self.seen) - 1, ())


def _long(stop: float = 5.0, target: float = 10.0) -> Entry:
    return Entry(side="long", stop_pips=stop, target_pips=target)


def test_a_long_hitting_its_target_nets_the_target_minus_spread_and_commission(bars: Bars) -> None:
    data = bars(
        [
            FLAT,
            (1.1001, 1.1004, 1.0999, 1.1003),  # filled at this open, 1.1001; stop 1.0996, target 1.1011
            (1.1003, 1.1012, 1.1002, 1.1010),  # target hit
            FLAT,
        ]
    )
    result = run_backtest(
        data, data.variants[0], Scripted({0: [_long()]}), Costs(spread_pips=0.5, commission_pips=0.3)
    )
    (trade,) = result.trades
    assert (trade.signal_index, trade.entry_index, trade.exit_index) == (0, 1, 2)
    assert trade.entry_price == 1.1001
    assert trade.exit_price == pytest.approx(1.1011)
    assert trade.exit_reason == "target"
    assert trade.gross_pips == pytest.approx(10.0)
    assert trade.cost_pips == pytest.approx(0.8)
    assert trade.net_pips == pytest.approx(9.2)
    assert trade.r == pytest.approx(9.2 / 5.0)
    assert trade.win


def test_a_short_stopped_out_loses_the_stop_plus_costs(bars: Bars) -> None:
    data = bars([FLAT, (1.1000, 1.1006, 1.0998, 1.1004), FLAT])  # short at 1.1000, stop 1.1005
    order = Entry(side="short", stop_pips=5.0, target_pips=5.0)
    (trade,) = run_backtest(
        data, data.variants[0], Scripted({0: [order]}), Costs(spread_pips=1.0, commission_pips=0.5)
    ).trades
    assert trade.exit_reason == "stop"
    assert trade.exit_price == pytest.approx(1.1005)
    assert trade.net_pips == pytest.approx(-5.0 - 1.5)
    assert trade.r == pytest.approx(-6.5 / 5.0)
    assert not trade.win


def test_costs_without_spread_or_commission_leave_gross_equal_net(bars: Bars) -> None:
    data = bars([FLAT, (1.1001, 1.1012, 1.1000, 1.1010), FLAT])
    (trade,) = run_backtest(data, data.variants[0], Scripted({0: [_long()]}), NO_COSTS).trades
    assert trade.net_pips == trade.gross_pips == pytest.approx(10.0)


def test_when_stop_and_target_fall_in_one_candle_the_stop_is_taken(bars: Bars) -> None:
    data = bars([FLAT, FLAT, (1.1000, 1.1020, 1.0980, 1.1000)])
    (trade,) = run_backtest(data, data.variants[0], Scripted({0: [_long()]}), Costs()).trades
    assert trade.exit_reason == "stop"
    assert trade.exit_index == 2
    assert trade.gross_pips == pytest.approx(-5.0)


def test_a_candle_opening_beyond_the_stop_fills_at_its_open(bars: Bars) -> None:
    data = bars([FLAT, FLAT, (1.0990, 1.0992, 1.0985, 1.0990)])  # stop 1.0995, gap to 1.0990
    (trade,) = run_backtest(data, data.variants[0], Scripted({0: [_long()]}), Costs()).trades
    assert trade.exit_price == pytest.approx(1.0990)
    assert trade.gross_pips == pytest.approx(-10.0)


def test_an_exit_order_fills_at_the_next_open_and_orders_that_do_not_apply_are_ignored(bars: Bars) -> None:
    data = bars([FLAT, FLAT, (1.1002, 1.1003, 1.1001, 1.1002), (1.1003, 1.1004, 1.1002, 1.1003)])
    script: dict[int, Sequence[Order]] = {0: [Exit(), _long()], 1: [_long()], 2: [Exit(reason="vwap")]}
    result = run_backtest(data, data.variants[0], Scripted(script), NO_COSTS)
    assert [(d.index, type(d.order).__name__) for d in result.decisions] == [(0, "Entry"), (2, "Exit")]
    (trade,) = result.trades
    assert (trade.entry_index, trade.exit_index, trade.exit_reason) == (1, 3, "vwap")
    assert trade.exit_price == 1.1003


def test_a_position_open_at_the_end_is_closed_at_the_last_close_and_a_last_signal_never_fills(
    bars: Bars,
) -> None:
    data = bars([FLAT, FLAT, (1.1000, 1.1003, 1.0999, 1.1002)])
    result = run_backtest(data, data.variants[0], Scripted({0: [_long()], 2: [_long()]}), NO_COSTS)
    (trade,) = result.trades
    assert (trade.exit_reason, trade.exit_index, trade.exit_price) == ("end", 2, 1.1002)


def test_the_strategy_sees_its_position_and_the_variant_vwap_of_candles_so_far(bars: Bars) -> None:
    data = bars([FLAT, (1.1000, 1.1004, 1.0998, 1.1002), FLAT], volumes=[10.0, 30.0, 5.0])
    strategy = Scripted({0: [_long(stop=50.0, target=50.0)]})
    run_backtest(data, data.variants[0], strategy, Costs())
    positions = [market["position"] for _, market in strategy.seen]
    assert positions == [None, "long", "long"]
    tp0, tp1 = (1.1001 + 1.0999 + 1.1000) / 3, (1.1004 + 1.0998 + 1.1002) / 3
    assert strategy.seen[0][1]["indicators"]["vwap"] == pytest.approx(tp0, abs=1e-12)
    assert strategy.seen[1][1]["indicators"]["vwap"] == pytest.approx((10 * tp0 + 30 * tp1) / 40, abs=1e-12)
    assert strategy.seen[1][1]["indicators"]["vwap_type"] == "true_vwap"


def test_costs_refuse_negative_or_non_finite_pips() -> None:
    with pytest.raises(ValidationError, match="spread_pips"):
        Costs(spread_pips=-0.1)
    with pytest.raises(ValidationError, match="commission_pips"):
        Costs(commission_pips=float("inf"))


def _perturbed_after(data: MarketBars, k: int, bars: Bars) -> MarketBars:
    rng = np.random.default_rng(5)
    frame = data.frame.copy()
    after = np.arange(len(frame)) > k
    scale = np.where(after, 1.0 + rng.normal(0.0, 0.002, len(frame)), 1.0)
    ohlc = frame[["open", "high", "low", "close"]].to_numpy() * scale[:, None]
    volume = np.where(after, rng.integers(1, 500, len(frame)).astype(float), frame["volume"].to_numpy())
    minutes = ((frame.index - frame.index[0]) / np.timedelta64(1, "m")).astype(int)
    start = frame.index[0].strftime("%Y-%m-%d %H:%M")
    return bars([tuple(row) for row in ohlc], list(volume), start=start, minutes=list(minutes))


@pytest.mark.parametrize("variant", [0, 1], ids=["true_vwap", "twap"])
def test_changing_bars_after_k_changes_no_decision_or_entry_up_to_k(
    real_bars: MarketBars, bars: Bars, variant: int
) -> None:
    n, k = 9000, 6000
    frame = real_bars.frame.iloc[:n]
    minutes = ((frame.index - frame.index[0]) / np.timedelta64(1, "m")).astype(int)
    original = bars(
        [tuple(row) for row in frame[["open", "high", "low", "close"]].to_numpy()],
        list(frame["volume"]),
        start=frame.index[0].strftime("%Y-%m-%d %H:%M"),
        minutes=list(minutes),
    )
    changed = _perturbed_after(original, k, bars)

    def run(data: MarketBars) -> Any:
        return run_backtest(data, data.variants[variant], VwapBounce(0.0001), Costs())

    before, after = run(original), run(changed)
    assert [d for d in before.decisions if d.index <= k] == [d for d in after.decisions if d.index <= k]
    assert [t for t in before.trades if t.exit_index <= k] == [t for t in after.trades if t.exit_index <= k]

    def entries(result: Any) -> list[tuple[Any, ...]]:
        return [(t.side, t.entry_index, t.entry_price) for t in result.trades if t.entry_index <= k]

    assert entries(before) == entries(after)
    assert len([d for d in before.decisions if d.index <= k]) > 20  # the check has something to hold
    assert [d for d in before.decisions if d.index > k] != [d for d in after.decisions if d.index > k]
