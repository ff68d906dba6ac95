"""The statistics of an A/B test of win rates, computed with the standard library and numpy only.

- Wilson score interval for one proportion (95 %).
- Two-proportion z test, pooled variance, two-sided (as statsmodels' `proportions_ztest`).
- McNemar's test for paired outcomes: the exact binomial test when the discordant pairs are fewer than
  `MCNEMAR_EXACT_BELOW`, else the chi-square statistic with continuity correction, (|b − c| − 1)² / (b + c).
- Trades per variant to detect p1 against p2 (two-sided α, power), by the normal approximation with the
  pooled variance under H0 (the formula behind DOMAIN.md §9's 9,336 / 4,129 / 1,471).
- Profit factor and maximum drawdown of a series of trade results.

The tests hold these to statsmodels and to hand-computed values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Final, Literal

import numpy as np

__all__ = [
    "MCNEMAR_EXACT_BELOW",
    "McNemarResult",
    "ZTestResult",
    "max_drawdown",
    "mcnemar",
    "profit_factor",
    "trades_needed",
    "two_proportion_ztest",
    "wilson_interval",
]

MCNEMAR_EXACT_BELOW: Final = 25
_NORMAL: Final = NormalDist()


def _two_sided_p(z: float) -> float:
    return math.erfc(abs(z) / math.sqrt(2.0))


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float] | None:
    """Wilson score interval of successes / n; None when n is 0."""
    if n <= 0:
        return None
    z = _NORMAL.inv_cdf(0.5 + confidence / 2.0)
    p = successes / n
    denominator = 1.0 + z * z / n
    centre = (p + z * z / (2.0 * n)) / denominator
    half = z * math.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True, slots=True)
class ZTestResult:
    z: float
    p_value: float


def two_proportion_ztest(s1: int, n1: int, s2: int, n2: int) -> ZTestResult | None:
    """Pooled two-proportion z test of s1/n1 against s2/n2; None when it is undefined (no trades, or all
    trades of both variants won or all lost)."""
    if n1 <= 0 or n2 <= 0:
        return None
    pooled = (s1 + s2) / (n1 + n2)
    variance = pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)
    if variance <= 0:
        return None
    z = (s1 / n1 - s2 / n2) / math.sqrt(variance)
    return ZTestResult(z=z, p_value=_two_sided_p(z))


@dataclass(frozen=True, slots=True)
class McNemarResult:
    b: int  # pairs won by A, lost by B
    c: int  # pairs lost by A, won by B
    statistic: float  # min(b, c) for the exact test, the chi-square value otherwise
    p_value: float
    method: Literal["exact binomial", "chi-square with continuity correction"]


def mcnemar(b: int, c: int) -> McNemarResult:
    """McNemar's test on the discordant pair counts b and c (see the module notes for the method)."""
    n = b + c
    if n < MCNEMAR_EXACT_BELOW:
        k = min(b, c)
        tail = sum(math.comb(n, i) for i in range(k + 1))
        p = min(1.0, 2 * tail / (1 << n)) if n else 1.0
        return McNemarResult(b, c, float(k), p, "exact binomial")
    chi2 = (abs(b - c) - 1.0) ** 2 / n
    return McNemarResult(
        b, c, chi2, math.erfc(math.sqrt(chi2 / 2.0)), "chi-square with continuity correction"
    )


def trades_needed(p1: float, p2: float, alpha: float = 0.05, power: float = 0.8) -> int | None:
    """Trades per variant for a two-sided two-proportion z test to detect p1 ≠ p2; None when p1 == p2."""
    if p1 == p2:
        return None
    z_alpha = _NORMAL.inv_cdf(1.0 - alpha / 2.0)
    z_beta = _NORMAL.inv_cdf(power)
    mean = (p1 + p2) / 2.0
    under_h0 = z_alpha * math.sqrt(2.0 * mean * (1.0 - mean))
    under_h1 = z_beta * math.sqrt(p1 * (1.0 - p1) + p2 * (1.0 - p2))
    return math.ceil((under_h0 + under_h1) ** 2 / (p1 - p2) ** 2)


def profit_factor(results: Sequence[float]) -> float | None:
    """Gross profit / gross loss; None without a losing trade (undefined, not infinite skill)."""
    values = np.asarray(results, dtype=np.float64)
    loss = float(-values[values < 0].sum())
    if loss <= 0:
        return None
    return float(values[values > 0].sum()) / loss


def max_drawdown(results: Sequence[float]) -> float:
    """Largest fall of the running total of `results` from its previous peak (the start counts as 0)."""
    equity = np.concatenate([[0.0], np.cumsum(np.asarray(results, dtype=np.float64))])
    return float((np.maximum.accumulate(equity) - equity).max())
