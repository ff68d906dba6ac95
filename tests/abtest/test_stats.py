"""The A/B statistics against statsmodels (the test oracle) and hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from statsmodels.stats.contingency_tables import mcnemar as sm_mcnemar
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_confint, proportion_effectsize, proportions_ztest

from fxhub.abtest.stats import (
    MCNEMAR_EXACT_BELOW,
    max_drawdown,
    mcnemar,
    profit_factor,
    trades_needed,
    two_proportion_ztest,
    wilson_interval,
)


@pytest.mark.parametrize(("wins", "n"), [(0, 10), (1, 1), (7, 20), (103, 251), (131, 275), (250, 251)])
def test_wilson_interval_equals_statsmodels(wins: int, n: int) -> None:
    low, high = proportion_confint(wins, n, alpha=0.05, method="wilson")
    assert wilson_interval(wins, n) == pytest.approx((low, high), abs=1e-12)


def test_wilson_interval_of_no_trades_is_none() -> None:
    assert wilson_interval(0, 0) is None


@pytest.mark.parametrize(("s1", "n1", "s2", "n2"), [(103, 251, 131, 275), (60, 100, 45, 100), (5, 9, 2, 30)])
def test_two_proportion_ztest_equals_statsmodels(s1: int, n1: int, s2: int, n2: int) -> None:
    z, p = proportions_ztest(np.array([s1, s2]), np.array([n1, n2]))
    result = two_proportion_ztest(s1, n1, s2, n2)
    assert result is not None
    assert result.z == pytest.approx(float(z), rel=1e-10)
    assert result.p_value == pytest.approx(float(p), rel=1e-9)


def test_two_proportion_ztest_is_undefined_without_trades_or_without_variance() -> None:
    assert two_proportion_ztest(0, 0, 3, 10) is None
    assert two_proportion_ztest(10, 10, 20, 20) is None


@pytest.mark.parametrize(("b", "c"), [(0, 0), (0, 3), (5, 1), (7, 9), (12, 12)])
def test_mcnemar_below_the_threshold_is_the_exact_binomial_test_of_statsmodels(b: int, c: int) -> None:
    assert b + c < MCNEMAR_EXACT_BELOW
    expected = sm_mcnemar([[40, b], [c, 30]], exact=True)
    result = mcnemar(b, c)
    assert result.method == "exact binomial"
    assert result.p_value == pytest.approx(float(expected.pvalue), rel=1e-12)


@pytest.mark.parametrize(("b", "c"), [(10, 15), (30, 12), (100, 130)])
def test_mcnemar_from_the_threshold_is_chi_square_with_continuity_correction_of_statsmodels(
    b: int, c: int
) -> None:
    assert b + c >= MCNEMAR_EXACT_BELOW
    expected = sm_mcnemar([[40, b], [c, 30]], exact=False, correction=True)
    result = mcnemar(b, c)
    assert result.method == "chi-square with continuity correction"
    assert result.statistic == pytest.approx(float(expected.statistic), rel=1e-12)
    assert result.p_value == pytest.approx(float(expected.pvalue), rel=1e-9)


def test_mcnemar_exact_by_hand() -> None:
    # b = 1, c = 5: p = 2 · (C(6,0) + C(6,1)) / 2^6 = 14 / 64
    assert mcnemar(1, 5).p_value == pytest.approx(14 / 64)


@pytest.mark.parametrize(("p2", "expected"), [(0.62, 9336), (0.63, 4129), (0.65, 1471)])
def test_trades_needed_reproduces_the_domain_figures(p2: float, expected: int) -> None:
    assert trades_needed(0.60, p2) == expected


def test_trades_needed_by_hand_and_close_to_statsmodels_arcsine_power() -> None:
    p1, p2 = 0.41, 0.476
    z_a, z_b = 1.959963984540054, 0.8416212335729143
    pbar = (p1 + p2) / 2
    hand = (z_a * math.sqrt(2 * pbar * (1 - pbar)) + z_b * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))) ** 2
    assert trades_needed(p1, p2) == math.ceil(hand / (p1 - p2) ** 2)
    effect = proportion_effectsize(p1, p2)
    arcsine = NormalIndPower().solve_power(effect_size=effect, alpha=0.05, power=0.8, ratio=1.0)
    assert trades_needed(p1, p2) == pytest.approx(arcsine, rel=0.01)  # two approximations, within 1 %


def test_trades_needed_is_none_for_equal_rates() -> None:
    assert trades_needed(0.5, 0.5) is None


def test_profit_factor_and_max_drawdown_by_hand() -> None:
    results = [5.0, -2.0, -3.0, 4.0, -6.0, 1.0]
    assert profit_factor(results) == pytest.approx(10.0 / 11.0)
    # running total 0, 5, 3, 0, 4, -2, -1: the peak 5 falls to -2
    assert max_drawdown(results) == pytest.approx(7.0)
    assert profit_factor([1.0, 2.0]) is None
    assert max_drawdown([]) == 0.0
    assert max_drawdown([-1.0, -1.0]) == pytest.approx(2.0)
