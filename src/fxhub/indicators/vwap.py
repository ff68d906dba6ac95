"""Session anchors, VWAP with σ bands, and TWAP, from 1-minute bars.

- Price of a bar: typical price TP = (H + L + C) / 3.
- VWAP = Σ w·TP / Σ w with w = traded volume (true VWAP). σ² = Σ w·TP² / Σ w − VWAP² (DOMAIN §6),
  computed here in the equivalent centred form Σ w·(TP − VWAP)² / Σ w, which does not lose the ~1e-8
  variance of an FX price in the rounding of TP² ≈ 1.2.
- TWAP weights every minute equally. A minute without a bar is detected from the timestamps: two
  consecutive bars more than 60 s apart leave (Δt / 60 s − 1) empty minutes between them, and each of
  those carries the earlier bar's close (the last price seen). TWAP starts at the first bar at or after
  the anchor and ends at the last bar: minutes before the first bar have no price in this session.
- Anchors: spot FX day from 17:00 New York (`fx_session_start`), CME day from 17:00 Chicago
  (`cme_session_start`); both DST-correct.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

from fxhub.indicators.ta import FloatArray
from fxhub.sessions import cme_session_start, fx_session_start

__all__ = [
    "Anchor",
    "WeightedStats",
    "empty_minutes_after",
    "minute_stats",
    "session_anchor",
    "typical_price",
    "volume_stats",
]

Anchor = Literal["fx", "cme"]

_NS_PER_MINUTE: Final = 60_000_000_000


@dataclass(frozen=True, slots=True)
class WeightedStats:
    """A weighted mean of prices and the weighted standard deviation around it."""

    mean: float
    sigma: float
    weight: float  # Σ w: contracts for VWAP, minutes for TWAP


def session_anchor(t: datetime, anchor: Anchor) -> datetime:
    """Start (UTC) of the FX or CME trading day that contains `t`."""
    return fx_session_start(t) if anchor == "fx" else cme_session_start(t)


def typical_price(high: FloatArray, low: FloatArray, close: FloatArray) -> FloatArray:
    """(H + L + C) / 3 per bar."""
    return (high + low + close) / 3.0


def _weighted(prices: FloatArray, weights: FloatArray) -> WeightedStats | None:
    total = float(weights.sum())
    if not total > 0:
        return None
    mean = float((weights * prices).sum() / total)
    variance = float((weights * (prices - mean) ** 2).sum() / total)
    return WeightedStats(mean=mean, sigma=max(variance, 0.0) ** 0.5, weight=total)


def volume_stats(tp: FloatArray, volume: FloatArray) -> WeightedStats | None:
    """True VWAP and σ of typical prices weighted by traded volume; None when nothing traded."""
    return _weighted(tp, volume)


def empty_minutes_after(ts_ns: npt.NDArray[np.int64]) -> FloatArray:
    """For each bar, how many minutes without a bar follow it before the next bar (0 after the last)."""
    gaps = np.zeros(len(ts_ns), dtype=np.float64)
    if len(ts_ns) > 1:
        gaps[:-1] = np.diff(ts_ns) // _NS_PER_MINUTE - 1
    return gaps


def minute_stats(tp: FloatArray, close: FloatArray, ts_ns: npt.NDArray[np.int64]) -> WeightedStats | None:
    """TWAP and σ with one equal weight per minute, empty minutes carrying the previous close."""
    if len(tp) == 0:
        return None
    gaps = empty_minutes_after(ts_ns)
    prices = np.concatenate([tp, close])
    weights = np.concatenate([np.ones(len(tp), dtype=np.float64), gaps])
    return _weighted(prices, weights)
