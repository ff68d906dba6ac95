"""What a scalping strategy implements, and the reference one: a VWAP-bounce scalper.

A strategy sees each *closed* 1-minute candle with the market-data dict of that moment and answers with
orders. An order is a decision taken at the candle's close; an engine (the backtester here, a live
engine elsewhere) fills it at the next candle's open at the earliest, so a strategy cannot trade on the
close it has just seen.

The market-data dict has the shape `UnifiedDataFetcher.get_market_data` returns, so one strategy runs
on live data and in a backtest: `pair`, `indicators` (`vwap`, `vwap_sigma`, `vwap_type`, ...,
here also `vwap_session_bars`: bars since the session start) and, added by the engine, `position`
(``"long"``, ``"short"`` or None: the strategy's open position after this candle).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from fxhub.errors import ValidationError
from fxhub.model import Candle

__all__ = [
    "Entry",
    "Exit",
    "Order",
    "Side",
    "Strategy",
    "VwapBounce",
    "VwapBounceConfig",
]

Side = Literal["long", "short"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """Open a position at the next open with a protective stop and a target, both in pips from the fill."""

    side: Side
    stop_pips: float
    target_pips: float
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Exit:
    """Close the open position at the next open."""

    reason: str = ""


Order = Entry | Exit


class Strategy(Protocol):
    """A strategy an engine drives one closed candle at a time."""

    @property
    def name(self) -> str: ...

    def on_candle(self, candle: Candle, market: Mapping[str, Any]) -> Sequence[Order]:
        """Orders decided at `candle`'s close (may be empty); filled at the next open at the earliest."""
        ...


def _positive(name: str, value: float, where: str) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ValidationError(name, value, "must be a positive finite number", where=where)


@dataclass(frozen=True, slots=True, kw_only=True)
class VwapBounceConfig:
    """Parameters of `VwapBounce`; prices in pips of the pair."""

    band_sigmas: float = 2.0  # the band is VWAP ± band_sigmas · σ
    stop_pips: float = 6.0
    target_pips: float = 6.0
    min_sigma_pips: float = 2.0  # no trades while the bands are narrower than this (early session)
    min_session_bars: int = 30  # nor before this many bars of the session have been seen
    max_hold_bars: int = 30  # exit at the next open after this many candles in the trade
    exit_at_vwap: bool = True  # exit at the next open once a candle closes across the VWAP

    def __post_init__(self) -> None:
        where = "VwapBounceConfig"
        for name in ("band_sigmas", "stop_pips", "target_pips", "min_sigma_pips"):
            _positive(name, getattr(self, name), where)
        for name in ("min_session_bars", "max_hold_bars"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValidationError(name, value, "must be a whole number ≥ 1", where=where)


class VwapBounce:
    """Fade a stretch to a VWAP band: the candle pierces the band and closes back inside it.

    Long when low ≤ VWAP − kσ < close; short when high ≥ VWAP + kσ > close. One position at a time.
    Out by the stop or the target (the engine's bracket), or at the next open once a candle closes
    on the far side of the VWAP (the reversion is done) or after `max_hold_bars` candles.
    """

    def __init__(self, pip_size: float, config: VwapBounceConfig | None = None) -> None:
        _positive("pip_size", pip_size, "VwapBounce")
        self.pip_size = float(pip_size)
        self.config = config if config is not None else VwapBounceConfig()
        self._held_bars = 0

    @property
    def name(self) -> str:
        c = self.config
        return f"vwap_bounce(k={c.band_sigmas:g}, stop={c.stop_pips:g}p, target={c.target_pips:g}p)"

    def on_candle(self, candle: Candle, market: Mapping[str, Any]) -> Sequence[Order]:
        c = self.config
        indicators = market["indicators"]
        vwap, sigma = indicators.get("vwap"), indicators.get("vwap_sigma")
        position: Side | None = market.get("position")
        if vwap is None or sigma is None or math.isnan(vwap) or math.isnan(sigma):
            return ()
        if position is not None:
            self._held_bars += 1
            crossed = candle.close >= vwap if position == "long" else candle.close <= vwap
            if c.exit_at_vwap and crossed:
                return (Exit(reason="vwap"),)
            if self._held_bars >= c.max_hold_bars:
                return (Exit(reason="time"),)
            return ()
        self._held_bars = 0
        if sigma < c.min_sigma_pips * self.pip_size:
            return ()
        if indicators.get("vwap_session_bars", c.min_session_bars) < c.min_session_bars:
            return ()
        lower, upper = vwap - c.band_sigmas * sigma, vwap + c.band_sigmas * sigma
        if candle.low <= lower < candle.close:
            return (
                Entry(side="long", stop_pips=c.stop_pips, target_pips=c.target_pips, reason="lower band"),
            )
        if candle.high >= upper > candle.close:
            return (
                Entry(side="short", stop_pips=c.stop_pips, target_pips=c.target_pips, reason="upper band"),
            )
        return ()
