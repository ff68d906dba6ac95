"""Order flow from 1-minute bars that carry aggressor-side volume: cumulative delta and VPIN.

Cumulative delta = Σ (buy-aggressor volume − sell-aggressor volume) (DOMAIN §7).

VPIN (Easley, López de Prado, O'Hara 2012): the classified volume is cut into equal buckets of V
contracts; VPIN = Σ |V_S − V_B| / (n·V) over the last n buckets. Buy and sell volume per bar come either
exactly from the aggressor side of CME trades (`aggressor`: the bar's buy_volume and sell_volume; trades
without a side are left out) or from bulk volume classification (`bvc`: V_B = V·Φ(ΔP/σ_ΔP) with ΔP the
close-to-close change and σ_ΔP its sample standard deviation over the frame; the first bar, with no ΔP, is
left out). A bar that straddles a bucket boundary is split in proportion, its buy share spread evenly.
Buckets are cut backwards from the last bar, so the newest bucket ends exactly now and the value does not
depend on where the frame starts once it holds n·V contracts. Andersen & Bondarenko (2014) question what
VPIN predicts: it is reported, not interpreted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from fxhub.indicators.ta import FloatArray

__all__ = ["VpinResult", "bvc_split", "cumulative_delta", "estimate_bucket_volume", "vpin"]


@dataclass(frozen=True, slots=True)
class VpinResult:
    """VPIN over `buckets` full buckets of `bucket_volume` contracts (value None when none is full)."""

    value: float | None
    bucket_volume: float
    buckets: int


def cumulative_delta(buy: FloatArray, sell: FloatArray) -> float | None:
    """Σ (buy − sell) over bars that know both sides; None when none does."""
    known = ~(np.isnan(buy) | np.isnan(sell))
    if not known.any():
        return None
    return float((buy[known] - sell[known]).sum())


def bvc_split(volume: FloatArray, close: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Bulk volume classification of bars 1..N-1 into (buy, sell) volume."""
    change = np.diff(close)
    vol = volume[1:]
    sigma = float(np.std(change, ddof=1)) if len(change) > 1 else 0.0
    if sigma > 0:
        z = change / sigma
        share = np.array([0.5 * (1.0 + math.erf(v / math.sqrt(2.0))) for v in z.tolist()], dtype=np.float64)
    else:
        share = np.full(len(change), 0.5, dtype=np.float64)
    buy = vol * share
    return buy, vol - buy


def estimate_bucket_volume(classified: FloatArray, minutes_per_day: int, buckets_per_day: int) -> float:
    """V = average daily volume / buckets per day, the daily volume estimated as mean per bar × minutes."""
    return float(classified.mean()) * minutes_per_day / buckets_per_day if len(classified) else 0.0


def vpin(buy: FloatArray, sell: FloatArray, *, bucket_volume: float, window_buckets: int) -> VpinResult:
    """VPIN over the last `window_buckets` full buckets (fewer if the data hold fewer)."""
    if not bucket_volume > 0:
        return VpinResult(value=None, bucket_volume=bucket_volume, buckets=0)
    cum_volume = np.concatenate([[0.0], np.cumsum(buy + sell)])
    cum_buy = np.concatenate([[0.0], np.cumsum(buy)])
    total = float(cum_volume[-1])
    buckets = min(window_buckets, math.floor(total / bucket_volume))
    if buckets == 0:
        return VpinResult(value=None, bucket_volume=bucket_volume, buckets=0)
    # Boundaries from now backwards; cumulative buy volume is linear inside a bar.
    edges = total - bucket_volume * np.arange(buckets + 1, dtype=np.float64)
    buy_at = np.interp(edges, cum_volume, cum_buy)
    bucket_buy = buy_at[:-1] - buy_at[1:]
    bucket_sell = bucket_volume - bucket_buy
    value = float(np.abs(bucket_sell - bucket_buy).sum() / (buckets * bucket_volume))
    return VpinResult(value=value, bucket_volume=bucket_volume, buckets=buckets)
