"""What the indicators compute with, and how much history they need before the window.

`warmup_bars` is the rule the fetcher follows: read that many bars before the window, so that every
recursive indicator (EMA, Wilder's RSI, ATR and ADX) has forgotten where its input started.

The rule. Each of these indicators is a first-order recursive filter ``s_t = a·s_{t-1} + (1-a)·x_t``; two
runs started at different bars differ by the initial difference times ``a^m`` after ``m`` bars.
EMA(n) has ``a = (n-1)/(n+1)``; Wilder smoothing (RSI, ATR) has ``a = (n-1)/n``. ADX smooths a ratio of
Wilder averages with a second Wilder filter, so an initial difference decays like ``(m+1)·a^m`` (two
cascaded poles). We take the smallest ``m`` that brings that factor below `warmup_tolerance` (1e-10,
one order below the 1e-9 the tests ask for, as a margin for the initial difference being larger than the
value itself, e.g. a Wilder gain average seeded in a quiet stretch), add TA-Lib's own lookback (the bars
before its first output: n-1 for EMA, n for RSI and ATR, 2n-1 for ADX) and take the maximum over the
indicators and the volume-spike baseline. With the defaults this gives 419 bars (ADX 14 decides: 392
bars of decay plus a lookback of 27), about ten periods for EMA and twenty to thirty for Wilder.

Session VWAP is not recursive but anchored: it needs every bar since the session start, which the fetcher
reads on top (`compute_indicators` says `vwap_complete: false` when the frame starts after the anchor).
VPIN uses whatever volume the frame holds and states how many buckets it filled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final, Literal

from fxhub.errors import ValidationError

__all__ = ["IndicatorConfig", "VpinMethod", "warmup_bars"]

VpinMethod = Literal["aggressor", "bvc"]

# CME FX trades 23 of 24 hours (17:00-16:00 Chicago), which is what "a day of volume" means for VPIN.
CME_TRADING_MINUTES_PER_DAY: Final = 23 * 60
_WHERE: Final = "IndicatorConfig"


@dataclass(frozen=True, slots=True, kw_only=True)
class IndicatorConfig:
    """Periods and options of the indicators; defaults follow the issue (EMA 9/21, RSI/ADX/ATR 14)."""

    ema_periods: tuple[int, ...] = (9, 21)
    rsi_period: int = 14
    adx_period: int = 14
    atr_period: int = 14
    # Volume spike: the current bar against the mean and standard deviation of the bars before it.
    spike_baseline_bars: int = 30
    # VPIN (Easley, López de Prado, O'Hara 2012): V = average daily volume / buckets_per_day, VPIN over
    # the last `vpin_window_buckets` buckets. `vpin_bucket_volume` overrides the estimate of V.
    vpin_method: VpinMethod = "aggressor"
    vpin_buckets_per_day: int = 50
    vpin_window_buckets: int = 50
    vpin_bucket_volume: float | None = None
    vpin_trading_minutes_per_day: int = CME_TRADING_MINUTES_PER_DAY
    # Weight a recursive indicator may still give to the state it had where the input started.
    warmup_tolerance: float = 1e-10

    def __post_init__(self) -> None:
        if not isinstance(self.ema_periods, tuple) or not self.ema_periods:
            rule = "must be a non-empty tuple of periods such as (9, 21)"
            raise ValidationError("ema_periods", self.ema_periods, rule, where=_WHERE)
        if len(set(self.ema_periods)) != len(self.ema_periods):
            raise ValidationError("ema_periods", self.ema_periods, "must not repeat a period", where=_WHERE)
        for period in self.ema_periods:
            _require_int("ema_periods", period, minimum=2)
        for name in ("rsi_period", "adx_period", "atr_period", "spike_baseline_bars"):
            _require_int(name, getattr(self, name), minimum=2)
        for name in ("vpin_buckets_per_day", "vpin_window_buckets", "vpin_trading_minutes_per_day"):
            _require_int(name, getattr(self, name), minimum=1)
        if self.vpin_method not in ("aggressor", "bvc"):
            rule = "must be 'aggressor' (exact CME trade sides) or 'bvc' (bulk volume classification)"
            raise ValidationError("vpin_method", self.vpin_method, rule, where=_WHERE)
        bucket = self.vpin_bucket_volume
        if bucket is not None and (
            isinstance(bucket, bool)
            or not isinstance(bucket, int | float)
            or not math.isfinite(bucket)
            or bucket <= 0
        ):
            rule = "must be a positive number of contracts, or None to estimate it from the data"
            raise ValidationError("vpin_bucket_volume", bucket, rule, where=_WHERE)
        tol = self.warmup_tolerance
        if isinstance(tol, bool) or not isinstance(tol, float) or not 0.0 < tol < 1.0:
            rule = "must be a float strictly between 0 and 1, e.g. 1e-10"
            raise ValidationError("warmup_tolerance", tol, rule, where=_WHERE)


def _require_int(name: str, value: object, *, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValidationError(name, value, f"must be a whole number ≥ {minimum}", where=_WHERE)


def _decay_bars(pole: float, tolerance: float, *, cascaded: bool = False) -> int:
    """Smallest m with pole**m ≤ tolerance, or (m+1)·pole**m ≤ tolerance for two cascaded filters."""
    m = math.ceil(math.log(tolerance) / math.log(pole))
    if cascaded:
        while (m + 1) * pole**m > tolerance:
            m += 1
    return m


def warmup_bars(config: IndicatorConfig) -> int:
    """Bars to read before the window so that no indicator value in it depends on where the input starts."""
    tol = config.warmup_tolerance
    needs = [config.spike_baseline_bars]
    for n in config.ema_periods:
        needs.append((n - 1) + _decay_bars((n - 1) / (n + 1), tol))
    for n in (config.rsi_period, config.atr_period):
        needs.append(n + _decay_bars((n - 1) / n, tol))
    n = config.adx_period
    needs.append((2 * n - 1) + _decay_bars((n - 1) / n, tol, cascaded=True))
    return max(needs)
