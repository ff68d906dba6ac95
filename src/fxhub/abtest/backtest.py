"""A tight-loop backtester for one strategy on one variant's VWAP.

Rules (named here because results depend on them):

- **No look-ahead.** At each candle's close the strategy sees that candle and indicators computed from
  candles up to it; an order it returns fills at the *next* candle's open. An entry signal on the last
  candle never fills.
- **One position at a time.** An `Entry` while a position is open, or an `Exit` while flat, is ignored;
  of several orders in one answer the first that applies is taken.
- **Bracket intrabar.** After the fill, each candle (the fill candle included: its range comes after
  its open) is checked against the stop and the target. When both lie inside one candle the stop is
  taken (we cannot know which came first, so assume the worse). A candle that *opens* beyond the stop
  fills at its open (a gap); the target fills at its price, never better.
- **Costs.** Prices are mid (or trade) prices. Each round trip pays `spread_pips` (half at entry, half
  at exit) and `commission_pips`; net = gross − spread − commission. R = net pips / stop pips.
- A position still open after the last candle is closed at its close (reason ``"end"``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from fxhub.abtest.bands import anchored_bands
from fxhub.abtest.data import MarketBars, Variant
from fxhub.abtest.strategy import Entry, Exit, Order, Side, Strategy
from fxhub.errors import ValidationError

__all__ = ["BacktestResult", "Costs", "Decision", "Trade", "run_backtest"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Costs:
    """Round-trip trading costs in pips."""

    spread_pips: float = 0.5  # one 6E tick (0.00005); IG's EUR/USD spread is about 0.6-1
    commission_pips: float = 0.3  # about $3 a round turn per 6E contract ($10 a pip)

    def __post_init__(self) -> None:
        for name in ("spread_pips", "commission_pips"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
                raise ValidationError(name, value, "must be a number ≥ 0 (pips)", where="Costs")
            if not math.isfinite(value):
                raise ValidationError(name, value, "must be finite", where="Costs")

    @property
    def round_trip_pips(self) -> float:
        return self.spread_pips + self.commission_pips


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """An order the strategy returned at the close of candle `index` and the engine accepted."""

    index: int
    order: Order


@dataclass(frozen=True, slots=True, kw_only=True)
class Trade:
    """One round trip; indices are positions in the bars, prices in the pair's quoting."""

    side: Side
    signal_index: int
    entry_index: int
    exit_index: int
    entry_price: float
    exit_price: float
    exit_reason: str  # stop, target, vwap, time, end
    stop_pips: float
    gross_pips: float
    cost_pips: float
    net_pips: float
    r: float

    @property
    def win(self) -> bool:
        """A win makes money after costs."""
        return self.net_pips > 0


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class BacktestResult:
    variant: Variant
    trades: tuple[Trade, ...]
    decisions: tuple[Decision, ...]
    bars: int


@dataclass(slots=True)
class _Open:
    side: Side
    signal_index: int
    entry_index: int
    entry_price: float
    stop_price: float
    target_price: float
    stop_pips: float


def _close(pos: _Open, index: int, price: float, reason: str, pip: float, costs: Costs) -> Trade:
    direction = 1.0 if pos.side == "long" else -1.0
    gross = round(direction * (price - pos.entry_price) / pip, 6)
    cost = costs.round_trip_pips
    net = round(gross - cost, 6)
    return Trade(
        side=pos.side,
        signal_index=pos.signal_index,
        entry_index=pos.entry_index,
        exit_index=index,
        entry_price=pos.entry_price,
        exit_price=price,
        exit_reason=reason,
        stop_pips=pos.stop_pips,
        gross_pips=gross,
        cost_pips=cost,
        net_pips=net,
        r=net / pos.stop_pips,
    )


def _bracket_exit(pos: _Open, i: int, o: float, h: float, low: float) -> tuple[float, str] | None:
    """(price, reason) if candle i hits the stop or the target; the stop first when both do."""
    if pos.side == "long":
        if low <= pos.stop_price:
            return (min(o, pos.stop_price) if i > pos.entry_index else pos.stop_price), "stop"
        if h >= pos.target_price:
            return pos.target_price, "target"
        return None
    if h >= pos.stop_price:
        return (max(o, pos.stop_price) if i > pos.entry_index else pos.stop_price), "stop"
    if low <= pos.target_price:
        return pos.target_price, "target"
    return None


def _accept(orders: Any, pos: _Open | None) -> Order | None:
    for order in orders:
        if isinstance(order, Exit) and pos is not None:
            return order
        if isinstance(order, Entry) and pos is None:
            return order
    return None


def run_backtest(bars: MarketBars, variant: Variant, strategy: Strategy, costs: Costs) -> BacktestResult:
    """Drive `strategy` over `bars` with `variant`'s session VWAP and bands; every trade and decision."""
    bands = anchored_bands(bars.frame, variant.weights, bars.anchor)
    frame = bars.frame
    opens, highs, lows = (frame[name].to_numpy(dtype=np.float64).tolist() for name in ("open", "high", "low"))
    closes = frame["close"].to_numpy(dtype=np.float64).tolist()
    means, sigmas = bands.mean.tolist(), bands.sigma.tolist()
    session_bars = bands.session_bars.tolist()
    pip, pair, label = bars.pip_size, bars.pair, variant.label
    trades: list[Trade] = []
    decisions: list[Decision] = []
    pending: tuple[int, Order] | None = None
    pos: _Open | None = None
    for i, candle in enumerate(bars.candles):
        o = opens[i]
        if pending is not None:
            signal_index, order = pending
            pending = None
            if isinstance(order, Entry) and pos is None:
                sign = 1.0 if order.side == "long" else -1.0
                pos = _Open(
                    side=order.side,
                    signal_index=signal_index,
                    entry_index=i,
                    entry_price=o,
                    stop_price=o - sign * order.stop_pips * pip,
                    target_price=o + sign * order.target_pips * pip,
                    stop_pips=order.stop_pips,
                )
            elif isinstance(order, Exit) and pos is not None:
                trades.append(_close(pos, i, o, order.reason or "exit", pip, costs))
                pos = None
        if pos is not None:
            hit = _bracket_exit(pos, i, o, highs[i], lows[i])
            if hit is not None:
                trades.append(_close(pos, i, hit[0], hit[1], pip, costs))
                pos = None
        market = {
            "pair": pair,
            "indicators": {
                "vwap": means[i],
                "vwap_sigma": sigmas[i],
                "vwap_type": label,
                "vwap_session_bars": session_bars[i],
            },
            "position": pos.side if pos is not None else None,
        }
        accepted = _accept(strategy.on_candle(candle, market), pos)
        if accepted is not None:
            pending = (i, accepted)
            decisions.append(Decision(index=i, order=accepted))
    if pos is not None:
        trades.append(_close(pos, len(closes) - 1, closes[-1], "end", pip, costs))
    return BacktestResult(variant=variant, trades=tuple(trades), decisions=tuple(decisions), bars=len(closes))
