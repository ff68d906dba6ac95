"""`fxhub market PAIR` as a user runs it: a real hub filled by both collectors from a simulated market."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cli_support import run_fxhub

from fxhub.sim import SimulationConfig, simulate

START = datetime(2025, 11, 4, 13, 0, tzinfo=UTC)
MINUTES = 40


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("market")
    simulate(SimulationConfig(start=START, minutes=MINUTES, seed=5, pairs=("EUR_USD",)), out)
    return out


def _collect(kind: str, files: list[str], hub: Any, cwd: Path) -> None:
    outbox = ["--outbox", str(cwd / f"outbox-{kind}.sqlite3")]
    result = run_fxhub(["collect", kind, "--file", *files, *outbox], hub, cwd)
    assert result.returncode == 0, result.stdout + result.stderr


def test_market_on_a_hub_filled_by_both_collectors_chooses_databento_with_true_vwap(
    hub_process: Callable[..., Any], market: Path, tmp_path: Path
) -> None:
    hub = hub_process()
    _collect("databento", sorted(str(p) for p in (market / "cme").glob("*.mbp-10.dbn.zst")), hub, tmp_path)
    _collect("ig", sorted(str(p) for p in (market / "ig").glob("*.ticks.csv")), hub, tmp_path)

    result = run_fxhub(["market", "EUR_USD", "--bars", "30", "--json"], hub, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert data["selection"]["chosen"] == "DATABENTO"
    assert data["volume_source"] == "DATABENTO (real)"
    assert data["price_basis"] == "futures"
    assert data["indicators"]["vwap_type"] == "true_vwap"
    assert len(data["candles"]) == 30
    assert {c["volume_source"] for c in data["candles"]} == {"DATABENTO (real)"}
    assert data["as_of"] == "2025-11-04T13:39:00Z"
    assert "30/30" in data["selection"]["reason"]

    hybrid = json.loads(
        run_fxhub(["market", "EUR_USD", "--bars", "30", "--policy", "hybrid", "--json"], hub, tmp_path).stdout
    )
    assert hybrid["price_basis"] == "spot"
    assert hybrid["indicators"]["vwap_type"] == "true_vwap"

    text = run_fxhub(["market", "EUR_USD", "--bars", "30"], hub, tmp_path)
    assert text.returncode == 0, text.stderr
    assert "DATABENTO" in text.stdout
    assert "why:" in text.stdout
    assert "vwap_type" in text.stdout


def test_market_on_a_hub_with_only_ig_falls_back_to_ig_with_twap(
    hub_process: Callable[..., Any], market: Path, tmp_path: Path
) -> None:
    hub = hub_process()
    _collect("ig", sorted(str(p) for p in (market / "ig").glob("*.ticks.csv")), hub, tmp_path)
    result = run_fxhub(["market", "EUR_USD", "--bars", "30", "--json"], hub, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert data["selection"]["chosen"] == "IG"
    assert data["volume_source"] == "IG (tick)"
    assert data["price_basis"] == "spot"
    assert data["indicators"]["vwap_type"] == "twap"
    assert "DATABENTO has no candles" in data["selection"]["reason"]

    missing = run_fxhub(["market", "GBP_USD"], hub, tmp_path)
    assert missing.returncode == 2
    assert "no market data for GBP_USD" in missing.stderr
    bad = run_fxhub(["market", "EUR_USD", "--policy", "best"], hub, tmp_path)
    assert bad.returncode == 2
    assert "--policy must be one of" in bad.stderr
