"""`fxhub ab-test` as a user runs it: on the real 6EH4 month, and on a hub holding a simulated market's
two sources (CME real volume and IG ticks)."""

from __future__ import annotations

import heapq
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from fxhub.hub.client import connect_to_data_hub
from fxhub.model import Candle
from fxhub.sim import SimulationConfig, simulate
from fxhub.sources.databento.files import open_dbn_files, replay_files
from fxhub.sources.databento.router import DatabentoBars
from fxhub.sources.ig.replay import IgBars, replay_quotes
from fxhub.sources.ig.vendor_files import read_quotes

REAL_6EH4 = (
    Path(__file__).resolve().parents[2].parent
    / "shared/data/real/cme"
    / ("6EH4.XCME_1min_bars_20240101_20240131.csv.gz")
)
SIM_START = datetime(2025, 11, 4, 12, 0, tzinfo=UTC)
SIM_MINUTES = 240


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FXHUB_")} | {"COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "fxhub", "ab-test", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _real_file() -> Path:
    if not REAL_6EH4.is_file():
        pytest.fail(
            f"real data file missing: {REAL_6EH4} (expected beside the repo in ../shared/data/real/cme/)"
        )
    return REAL_6EH4


def test_ab_test_on_the_real_6eh4_month_prints_both_variants_and_writes_json_and_html(tmp_path: Path) -> None:
    out_json, out_html = tmp_path / "out.json", tmp_path / "out.html"
    result = _run(["--file", str(_real_file()), "--json", str(out_json), "--report", str(out_html)], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    for text in (
        "A: true_vwap",
        "B: twap",
        "win rate 95% CI",
        "two-proportion z test",
        "McNemar",
        "verdict:",
    ):
        assert text in result.stdout
    summary: dict[str, Any] = json.loads(out_json.read_text(encoding="utf-8"))
    assert summary["data"]["bars"] == 29_996
    assert summary["data"]["first_minute"] == "2024-01-01T23:00:00Z"
    assert [v["label"] for v in summary["variants"]] == ["true_vwap", "twap"]
    for v in summary["variants"]:
        assert v["trades"] > 100
        low, high = v["win_rate_ci95"]
        assert low < v["win_rate"] < high
        assert v["profit_factor"] > 0
        assert v["max_drawdown_pips"] >= 0
    diff = summary["difference"]
    assert 0 <= diff["two_proportion_ztest"]["p_value"] <= 1
    assert diff["paired"]["test"]["method"] in ("exact binomial", "chi-square with continuity correction")
    assert summary["verdict"] in result.stdout.replace("\n", " ")
    page = out_html.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "Plotly.newPlot(" in page
    assert summary["verdict"].split(":")[0] in page


def test_ab_test_refuses_a_png_report_before_doing_any_work(tmp_path: Path) -> None:
    result = _run(["--file", str(_real_file()), "--report", str(tmp_path / "out.png")], tmp_path)
    assert result.returncode == 2
    assert "--report takes an .html path" in result.stderr
    assert not (tmp_path / "out.png").exists()


def test_ab_test_needs_a_file_or_a_period(tmp_path: Path) -> None:
    result = _run([], tmp_path)
    assert result.returncode == 2
    assert "expected --file PATH, or --start and --end" in result.stderr


def _simulated_candles(folder: Path) -> list[Candle]:
    simulate(SimulationConfig(start=SIM_START, minutes=SIM_MINUTES, seed=3, pairs=("EUR_USD",)), folder)
    candles: list[Candle] = []
    replay_files(
        open_dbn_files(sorted((folder / "cme").glob("*.mbp-10.dbn.zst"))), DatabentoBars(candles.append)
    )
    readers = [read_quotes(path) for path in sorted((folder / "ig").glob("*.ticks.csv"))]
    replay_quotes(heapq.merge(*readers, key=lambda item: item[0].ts_event), IgBars(candles.append))
    return candles


def test_ab_test_on_a_hub_with_both_sources_compares_true_vwap_with_tick_vwap_on_spot_prices(
    hub_process: Any, tmp_path: Path
) -> None:
    hub = hub_process()
    candles = _simulated_candles(tmp_path / "market")
    with connect_to_data_hub(hub.url, hub.token) as client:
        client.push_candles(candles)
    out_json = tmp_path / "hub.json"
    end = SIM_START + timedelta(minutes=SIM_MINUTES)
    args = ["--pair", "EUR_USD", "--start", SIM_START.isoformat(), "--end", end.isoformat()]
    args += [
        "--hub",
        hub.url,
        "--token",
        hub.token,
        "--json",
        str(out_json),
        "--report",
        str(tmp_path / "hub.html"),
    ]
    result = _run(args, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads(out_json.read_text(encoding="utf-8"))
    data = summary["data"]
    assert (data["price_basis"], data["session_anchor"]) == ("spot", "fx")
    assert data["bars"] == sum(c.source.value == "IG" for c in candles)
    assert data["real_volume_coverage"] > 0.9
    assert [v["label"] for v in summary["variants"]] == ["true_vwap", "tick_vwap"]
    assert "B: tick_vwap" in result.stdout
    assert summary["verdict"]
    assert (tmp_path / "hub.html").stat().st_size > 100_000
