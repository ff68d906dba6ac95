"""Inputs shared by the Databento source tests: a simulated market across the CME daily break, the
real GLBX files of the shared data folder (missing files fail the tests: they are required inputs), a
stand-in live gateway serving a short simulated market to the real `databento.Live` client, and a
stand-in Historical API (HTTPS) serving simulated DBN files to the real `databento.Historical` client."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from historical_gateway import HISTORICAL_API_KEY, HistoricalGateway, TlsFiles, make_tls_files
from live_gateway import LIVE_API_KEY, LIVE_MINUTES, LIVE_START, LiveGateway, Market, Scenario

from fxhub.sim import SimulationConfig, simulate

# 2025-11-03 is a Monday after the US DST switch: the CME daily break is 22:00–23:00 UTC.
SIM_START = datetime(2025, 11, 3, 21, 0, tzinfo=UTC)
SIM_MINUTES = 150
PRODUCTS = {"EUR_USD": "6E", "GBP_USD": "6B", "USD_JPY": "6J"}

# tests/sources/databento/conftest.py → the repository root is parents[3]; shared data sits beside it.
REAL_DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "real"


@pytest.fixture(scope="session")
def sim_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """150 simulated minutes, 21:00–23:30 UTC: an hour of trading, the break, half an hour after it."""
    out = tmp_path_factory.mktemp("sim-market")
    simulate(SimulationConfig(start=SIM_START, minutes=SIM_MINUTES, seed=11), out)
    return out


@pytest.fixture(scope="session")
def sim_truth(sim_dir: Path) -> pd.DataFrame:
    truth = pd.read_csv(sim_dir / "truth.csv", keep_default_na=False)
    truth["minute"] = pd.to_datetime(truth["minute_utc"], utc=True)
    return truth


@pytest.fixture(scope="session")
def real_glbx() -> Callable[[str], Path]:
    """The path of a real GLBX file; fails (never skips) with a clear message when it is missing."""
    folder = REAL_DATA / "glbx"

    def path(name: str) -> Path:
        found = folder / name
        if not found.is_file():
            pytest.fail(
                f"required real-data file {found.resolve()} is missing: these tests read the shared "
                f"GLBX fixtures (see ../shared/data/real/MANIFEST.md beside the repository)",
                pytrace=False,
            )
        return found

    return path


# ------------------------------------------------------------- the live gateway stand-in (test_session.py)


@pytest.fixture(scope="session")
def live_market_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six simulated minutes of 6E, 6B and 6J MBP-10, and their truth."""
    out = tmp_path_factory.mktemp("live-market")
    simulate(SimulationConfig(start=LIVE_START, minutes=LIVE_MINUTES, seed=3), out)
    return out


@pytest.fixture(scope="session")
def live_market(live_market_dir: Path) -> Market:
    return Market(sorted((live_market_dir / "cme").glob("*.mbp-10.dbn.zst")))


@pytest.fixture
def live_gateway(live_market: Market) -> Iterator[Callable[..., LiveGateway]]:
    """Starts stand-in gateways serving `live_market` on free loopback ports; closes them afterwards."""
    started: list[LiveGateway] = []

    def start(scenario: Scenario | None = None, *, api_key: str = LIVE_API_KEY) -> LiveGateway:
        gateway = LiveGateway(live_market, api_key, scenario).start()
        started.append(gateway)
        return gateway

    yield start
    for gateway in started:
        gateway.close()


# ------------------------------------------------------- the Historical API stand-in (test_historical.py)


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """A self-signed certificate for 127.0.0.1: the databento client speaks HTTPS only."""
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def historical_gateway(
    tls_files: TlsFiles, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., HistoricalGateway]]:
    """Starts Historical API stand-ins serving DBN files; `requests` (hence the client) trusts their
    certificate through REQUESTS_CA_BUNDLE for the test. Stopped afterwards."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls_files.cert))
    started: list[HistoricalGateway] = []

    def start(files: Sequence[Path], *, api_key: str = HISTORICAL_API_KEY) -> HistoricalGateway:
        gateway = HistoricalGateway(files, tls_files, api_key=api_key).start()
        started.append(gateway)
        return gateway

    yield start
    for gateway in started:
        gateway.stop()
