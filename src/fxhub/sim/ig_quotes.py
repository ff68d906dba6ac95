"""IG-like spot quotes sampled from the latent mid: on IG's price grid, at a rate that follows activity."""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from fxhub.instruments import Instrument
from fxhub.sim.market import LatentPath
from fxhub.sources.ig.recording import RecordedTick

__all__ = ["simulate_ig_ticks"]

NS_PER_MS: Final = 1_000_000
MS_PER_MINUTE: Final = 60_000
QUIET_SPREAD_WIDENING: Final = 1.2  # the spread grows by up to this factor (+1) when activity is low


def simulate_ig_ticks(
    instrument: Instrument,
    path: LatentPath,
    stress: npt.NDArray[np.float64],
    rng: np.random.Generator,
    *,
    noise_sd: float,
) -> tuple[list[RecordedTick], npt.NDArray[np.int64]]:
    """Quote updates for one pair and the number of them in each minute.

    The rate is the profile's peak rate times activity, volatility stress and a per-minute log-normal
    noise of its own, so tick counts track real volume through the shared activity but not one to one.
    Repeated identical quotes are dropped: IG's DISTINCT stream sends changes.
    """
    assert instrument.sim is not None
    sim = instrument.sim
    noise = rng.lognormal(0.0, noise_sd, path.minutes)
    rates = sim.quotes_per_minute * path.activity * stress * noise
    per_minute = rng.poisson(rates)
    minute_index = np.repeat(np.arange(path.minutes), per_minute)
    offsets_ms = rng.integers(0, MS_PER_MINUTE, len(minute_index))
    utm_ms = np.sort(path.start_ns // NS_PER_MS + minute_index * MS_PER_MINUTE + offsets_ms)
    mid = path.mid_at(utm_ms * NS_PER_MS)
    increment = instrument.ig_price_increment
    activity = path.activity[(utm_ms - path.start_ns // NS_PER_MS) // MS_PER_MINUTE]
    spread = sim.spread_pips * instrument.pip_size * (1.0 + QUIET_SPREAD_WIDENING * (1.0 - activity))
    spread_steps = np.maximum(1, np.rint(spread / increment + rng.integers(0, 3, len(mid)))).astype(np.int64)
    bid_steps = np.floor((mid - spread_steps * increment / 2.0) / increment).astype(np.int64)
    offer_steps = bid_steps + spread_steps
    changed = np.ones(len(bid_steps), dtype=bool)
    changed[1:] = (bid_steps[1:] != bid_steps[:-1]) | (offer_steps[1:] != offer_steps[:-1])
    utm_ms, bid_steps, offer_steps = utm_ms[changed], bid_steps[changed], offer_steps[changed]
    counts = np.bincount((utm_ms - path.start_ns // NS_PER_MS) // MS_PER_MINUTE, minlength=path.minutes)
    epic, pair = instrument.ig_epic, instrument.pair
    ticks = [
        RecordedTick(t, epic, pair, b * increment, o * increment)
        for t, b, o in zip(utm_ms.tolist(), bid_steps.tolist(), offer_steps.tolist(), strict=True)
    ]
    return ticks, counts.astype(np.int64)
