"""The latent market the simulator samples from: a spot mid per second and an activity level per minute.

The mid follows a random walk with heavy-tailed steps whose volatility is itself random (a log-volatility
AR(1) per minute) and rises with activity. Activity follows the FX day: quiet Asia, busy London, busiest
in the London–New York overlap, quiet again in the late New York afternoon, nothing at the weekend.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import numpy as np
import numpy.typing as npt

from fxhub.instruments import SimProfile

__all__ = ["LatentPath", "activity_profile", "simulate_latent_path"]

SECONDS_PER_MINUTE: Final = 60
FX_MINUTES_PER_YEAR: Final = 260 * 24 * 60
LOG_VOL_PERSISTENCE: Final = 0.98  # per-minute AR(1) coefficient of log volatility
LOG_VOL_SHOCK_SD: Final = 0.08
STEP_TAIL_DOF: Final = 4  # Student-t degrees of freedom of the per-second steps
# (centre hour UTC, width in hours, height) of the Tokyo, London and New York bumps.
_SESSION_BUMPS: Final = ((1.5, 2.5, 0.30), (9.0, 2.2, 0.70), (14.5, 2.0, 0.95))
_ACTIVITY_FLOOR: Final = 0.08

FloatArray = npt.NDArray[np.float64]


def activity_profile(minute_of_day_utc: FloatArray) -> FloatArray:
    """Relative market activity (0..~1) by minute of the UTC day."""
    hours = np.asarray(minute_of_day_utc, dtype=np.float64) / 60.0
    level = np.full_like(hours, _ACTIVITY_FLOOR)
    for centre, width, height in _SESSION_BUMPS:
        distance = np.minimum(np.abs(hours - centre), 24.0 - np.abs(hours - centre))
        level += height * np.exp(-0.5 * (distance / width) ** 2)
    return np.minimum(level, 1.0)


@dataclass(frozen=True, slots=True)
class LatentPath:
    """One pair's true market over the simulated span."""

    start_ns: int
    mid_per_second: FloatArray  # spot mid at each whole second from start (len = minutes*60 + 1)
    activity: FloatArray  # per minute, 0 at the weekend
    volatility: FloatArray  # per-minute relative volatility of the mid

    @property
    def minutes(self) -> int:
        return len(self.activity)

    def mid_at(self, ts_ns: npt.NDArray[np.int64]) -> FloatArray:
        """The mid at arbitrary instants, linearly between whole seconds."""
        seconds = (np.asarray(ts_ns, dtype=np.int64) - self.start_ns) / 1e9
        grid = np.arange(len(self.mid_per_second), dtype=np.float64)
        return np.interp(seconds, grid, self.mid_per_second)


def simulate_latent_path(
    profile: SimProfile,
    start: datetime,
    minutes: int,
    rng: np.random.Generator,
    *,
    fx_open: npt.NDArray[np.bool_],
) -> LatentPath:
    """Draw a pair's mid path; `fx_open` says per minute whether spot FX trades (False at the weekend)."""
    minute_of_day = (start.hour * 60 + start.minute + np.arange(minutes)) % 1440
    activity = activity_profile(minute_of_day.astype(np.float64)) * fx_open
    log_vol = np.empty(minutes)
    state = 0.0
    shocks = rng.normal(0.0, LOG_VOL_SHOCK_SD, minutes)
    for i in range(minutes):
        state = LOG_VOL_PERSISTENCE * state + shocks[i]
        log_vol[i] = state
    per_minute_sd = profile.annual_vol / math.sqrt(FX_MINUTES_PER_YEAR)
    volatility = per_minute_sd * np.exp(log_vol) * (0.35 + 0.9 * activity)
    volatility[~fx_open] = 0.0

    t_steps = rng.standard_t(STEP_TAIL_DOF, (minutes, SECONDS_PER_MINUTE))
    t_steps *= math.sqrt((STEP_TAIL_DOF - 2) / STEP_TAIL_DOF)  # unit variance
    log_steps = (t_steps * (volatility / math.sqrt(SECONDS_PER_MINUTE))[:, None]).ravel()
    low, high = profile.mid_range
    log_mid = np.empty(len(log_steps) + 1)
    log_mid[0] = math.log(min(max(profile.mid, low), high))
    log_low, log_high = math.log(low), math.log(high)
    # Cumulative sum in blocks so the soft walls can push the path back inside the range.
    position = log_mid[0]
    block = SECONDS_PER_MINUTE * 30
    for begin in range(0, len(log_steps), block):
        steps = log_steps[begin : begin + block].copy()
        if position > log_high:
            steps -= (position - log_high) / len(steps)
        elif position < log_low:
            steps += (log_low - position) / len(steps)
        path = position + np.cumsum(steps)
        log_mid[begin + 1 : begin + 1 + len(steps)] = path
        position = float(path[-1])
    start_ns = int(start.timestamp()) * 1_000_000_000
    return LatentPath(start_ns, np.exp(log_mid), activity, volatility)
