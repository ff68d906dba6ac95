"""A CME futures order book for the simulator: MBP-10 events and trades around a latent fair price.

The book keeps ten contiguous price levels a side on the contract's tick grid. Each minute brings book
events (adds, cancels, modifies at levels near the top) and trades (aggressor side leaning with the recent
price drift, heavy-tailed sizes); when the fair price leaves the quoted spread, the book re-quotes. Every
venue event ends with a record flagged F_LAST; a trade is a `T` record carrying the book *before* the
trade, followed by the `C`/`M` record that takes the filled size off the top, as on CME.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = ["BookRecords", "MinuteFlow", "SimulatedBook"]

LEVELS: Final = 10
F_LAST: Final = 0x80
DRIFT_LOOKBACK_NS: Final = 10_000_000_000
_ACTIONS: Final = ("A", "C", "M")
_ACTION_WEIGHTS: Final = (0.45, 0.40, 0.15)
_TRADE_SIZE_PARETO_ALPHA: Final = 1.4
_MAX_TRADE_SIZE: Final = 300


@dataclass(slots=True)
class MinuteFlow:
    """What the exchange really did in one minute: the simulator's ground truth."""

    volume: int = 0
    trades: int = 0
    buy_volume: int = 0
    sell_volume: int = 0
    records: int = 0


@dataclass(slots=True)
class BookRecords:
    """Columns of MBP-10 records collected before they are packed into DBN."""

    instrument_id: list[int] = field(default_factory=list)
    ts_event: list[int] = field(default_factory=list)
    price_ticks: list[int] = field(default_factory=list)
    size: list[int] = field(default_factory=list)
    action: list[str] = field(default_factory=list)
    side: list[str] = field(default_factory=list)
    flags: list[int] = field(default_factory=list)
    depth: list[int] = field(default_factory=list)
    ts_recv_delay: list[int] = field(default_factory=list)
    sequence: list[int] = field(default_factory=list)
    best_bid_ticks: list[int] = field(default_factory=list)
    spread_ticks: list[int] = field(default_factory=list)
    levels: list[list[int]] = field(default_factory=list)  # bid_sz*10, ask_sz*10, bid_ct*10, ask_ct*10

    def __len__(self) -> int:
        return len(self.ts_event)


class SimulatedBook:
    """The book of one contract; `run_minute` appends that minute's records to a `BookRecords`."""

    def __init__(self, instrument_id: int, rng: random.Random, *, typical_top_size: int = 40) -> None:
        self.instrument_id = instrument_id
        self._rng = rng
        self._typical = typical_top_size
        self._sequence = 1000
        self.best_bid = 0
        self.spread = 1
        self.bid_sz: list[int] = []
        self.ask_sz: list[int] = []
        self.bid_ct: list[int] = []
        self.ask_ct: list[int] = []

    def _fresh(self, depth: int) -> tuple[int, int]:
        size = 1 + int(self._rng.expovariate(1.0 / (self._typical * (1.0 + 0.25 * depth))))
        return size, max(1, size // 6 + self._rng.randint(0, 3))

    def _seed(self, best_bid: int, spread: int) -> None:
        self.best_bid, self.spread = best_bid, spread
        fresh = [self._fresh(i) for i in range(LEVELS)]
        self.bid_sz, self.bid_ct = [s for s, _ in fresh], [c for _, c in fresh]
        fresh = [self._fresh(i) for i in range(LEVELS)]
        self.ask_sz, self.ask_ct = [s for s, _ in fresh], [c for _, c in fresh]

    def _emit(
        self,
        out: BookRecords,
        ts: int,
        delay: int,
        price: int,
        size: int,
        action: str,
        side: str,
        depth: int,
        flags: int,
    ) -> None:
        self._sequence += 1
        out.instrument_id.append(self.instrument_id)
        out.ts_event.append(ts)
        out.price_ticks.append(price)
        out.size.append(size)
        out.action.append(action)
        out.side.append(side)
        out.flags.append(flags)
        out.depth.append(depth)
        out.ts_recv_delay.append(delay)
        out.sequence.append(self._sequence)
        out.best_bid_ticks.append(self.best_bid)
        out.spread_ticks.append(self.spread)
        out.levels.append(self.bid_sz + self.ask_sz + self.bid_ct + self.ask_ct)

    def _shift(self, sizes: list[int], counts: list[int], advance: int) -> None:
        """Move one side's best price toward (advance > 0) or away from (< 0) the other side."""
        steps = min(abs(advance), LEVELS)
        fresh = [self._fresh(i) for i in range(steps)]
        if advance > 0:
            sizes[:] = [s for s, _ in fresh] + sizes[: LEVELS - steps]
            counts[:] = [c for _, c in fresh] + counts[: LEVELS - steps]
        else:
            sizes[:] = sizes[steps:] + [s for s, _ in fresh]
            counts[:] = counts[steps:] + [c for _, c in fresh]

    def _requote(self, out: BookRecords, ts: int, delay: int, bid: int, spread: int) -> None:
        """Move the quotes to `bid` / `bid + spread` in one venue event, the retreating side first."""
        if not self.bid_sz:
            self._seed(bid, spread)
            self._emit(out, ts, delay, bid, self.bid_sz[0], "A", "B", 0, 0)
            self._emit(out, ts, delay, bid + spread, self.ask_sz[0], "A", "A", 0, F_LAST)
            return
        current = {"B": self.best_bid, "A": self.best_bid + self.spread}
        target = {"B": bid, "A": bid + spread}
        # advance > 0 moves a side toward the other one; retreats go first so the book never crosses.
        advances = {"B": target["B"] - current["B"], "A": current["A"] - target["A"]}
        moves = sorted((advance, side) for side, advance in advances.items() if advance != 0)
        for index, (advance, side) in enumerate(moves):
            sizes, counts = (self.bid_sz, self.bid_ct) if side == "B" else (self.ask_sz, self.ask_ct)
            removed = sizes[0]
            old_price = current[side]
            self._shift(sizes, counts, advance)
            current[side] = target[side]
            self.best_bid, self.spread = current["B"], current["A"] - current["B"]
            flags = F_LAST if index == len(moves) - 1 else 0
            if advance > 0:
                self._emit(out, ts, delay, target[side], sizes[0], "A", side, 0, flags)
            else:
                self._emit(out, ts, delay, old_price, removed, "C", side, 0, flags)

    def _book_event(self, out: BookRecords, ts: int, delay: int) -> None:
        rng = self._rng
        side = "B" if rng.random() < 0.5 else "A"
        depth = min(int(rng.expovariate(0.45)), LEVELS - 1)
        sizes, counts = (self.bid_sz, self.bid_ct) if side == "B" else (self.ask_sz, self.ask_ct)
        action = rng.choices(_ACTIONS, _ACTION_WEIGHTS)[0]
        quantity = 1 + int(rng.expovariate(0.25))
        if action == "C" and sizes[depth] <= 1:
            action = "A"
        if action == "A":
            sizes[depth] += quantity
            counts[depth] += 1
        elif action == "C":
            quantity = min(quantity, sizes[depth] - 1)
            sizes[depth] -= quantity
            counts[depth] = max(1, counts[depth] - 1)
        else:
            sizes[depth] = max(1, sizes[depth] + (quantity if rng.random() < 0.5 else -quantity))
        price = self.best_bid - depth if side == "B" else self.best_bid + self.spread + depth
        self._emit(out, ts, delay, price, quantity, action, side, depth, F_LAST)

    def _trade(self, out: BookRecords, ts: int, delay: int, buy_probability: float, flow: MinuteFlow) -> None:
        rng = self._rng
        buy = rng.random() < buy_probability
        resting, counts = (self.ask_sz, self.ask_ct) if buy else (self.bid_sz, self.bid_ct)
        size = min(int(rng.paretovariate(_TRADE_SIZE_PARETO_ALPHA)), _MAX_TRADE_SIZE, resting[0])
        price = self.best_bid + self.spread if buy else self.best_bid
        aggressor = "B" if buy else "A"
        self._emit(out, ts, delay, price, size, "T", aggressor, 0, 0)  # book before the trade
        resting_side = "A" if buy else "B"
        if size < resting[0]:
            resting[0] -= size
            self._emit(out, ts, delay, price, size, "M", resting_side, 0, F_LAST)
        else:  # the level is gone: that side's best price retreats one tick
            self._shift(resting, counts, -1)
            if buy:
                self.spread += 1
            else:
                self.best_bid -= 1
                self.spread += 1
            self._emit(out, ts, delay, price, size, "C", resting_side, 0, F_LAST)
        flow.volume += size
        flow.trades += 1
        if buy:
            flow.buy_volume += size
        else:
            flow.sell_volume += size

    def run_minute(
        self,
        out: BookRecords,
        event_ns: npt.NDArray[np.int64],
        is_trade: npt.NDArray[np.bool_],
        fair_ticks: npt.NDArray[np.float64],
        drift_ticks: npt.NDArray[np.float64],
        target_spread: int,
    ) -> MinuteFlow:
        """Play one minute's events (sorted times); returns the true flow of the minute."""
        flow = MinuteFlow()
        start = len(out)
        rng = self._rng
        for ts, trade, fair, drift in zip(
            event_ns.tolist(), is_trade.tolist(), fair_ticks.tolist(), drift_ticks.tolist(), strict=True
        ):
            delay = 2_000 + int(rng.expovariate(1.0 / 30_000))
            bid = math.floor(fair - (target_spread - 1) / 2.0)
            outside = not self.bid_sz or fair < self.best_bid or fair > self.best_bid + self.spread
            if outside or (self.spread != target_spread and rng.random() < 0.5):
                self._requote(out, ts, delay, bid, target_spread)
            if trade:
                self._trade(out, ts, delay, 0.5 + 0.35 * math.tanh(1.5 * drift), flow)
            else:
                self._book_event(out, ts, delay)
        flow.records = len(out) - start
        return flow
