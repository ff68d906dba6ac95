"""A simulated market shared by the simulator tests: 150 minutes across the CME daily break."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from fxhub.sim import SimulationConfig, SimulationResult, simulate

# 2025-11-03 is a Monday after the DST switch: the CME break is 22:00–23:00 UTC.
BREAK_DAY_START = datetime(2025, 11, 3, 21, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def break_market(tmp_path_factory: pytest.TempPathFactory) -> SimulationResult:
    out = tmp_path_factory.mktemp("market")
    return simulate(SimulationConfig(start=BREAK_DAY_START, minutes=150, seed=11), out)


@pytest.fixture(scope="session")
def busy_day_eur(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Twelve hours of EUR_USD, quiet Asia into the London–New York overlap."""
    out = tmp_path_factory.mktemp("day")
    simulate(
        SimulationConfig(
            start=datetime(2025, 11, 4, 4, 0, tzinfo=UTC), minutes=720, seed=5, pairs=("EUR_USD",)
        ),
        out,
    )
    return out
