"""`fxhub check` as cron runs it: against a real hub process, healthy and broken, judged at a fixed time."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from cli_support import run_fxhub
from ops_support import NOW_ARG, PAIRS, fill_hub, unreachable_url


@pytest.fixture(autouse=True)
def _wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # rich wraps table cells at the default 80 columns


def test_check_on_a_healthy_pipeline_has_real_trade_volume_for_every_pair_and_exits_0(
    hub_process: Callable[..., Any], tmp_path: Path
) -> None:
    hub = hub_process()
    assert fill_hub(hub, ("DATABENTO", "IG")) == 360

    result = run_fxhub(["check", *NOW_ARG], hub, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    rows = [line for line in result.stdout.splitlines() if "Has real trade volume!" in line and "│" in line]
    assert [row.split("│")[1].strip() for row in rows] == list(PAIRS)
    for row in rows:
        assert [cell.strip() for cell in row.split("│")[2:5]] == ["120", "60", "60"]
        assert "2025-11-04 13:59 UTC" in row  # the latest DATABENTO candle
    assert "volume 120 (real), DATABENTO 6EZ5" in result.stdout
    assert "✅ pipeline healthy" in result.stdout

    data = json.loads(run_fxhub(["check", "--pair", "EUR_USD", "--json", *NOW_ARG], hub, tmp_path).stdout)
    assert data["ok"] is True
    [pair] = data["pairs"]
    assert (pair["pair"], pair["databento"], pair["ig"]) == ("EUR_USD", 60, 60)
    assert pair["latest_databento"]["timestamp"] == "2025-11-04T13:59:00Z"
    assert pair["latest_databento"]["volume_type"] == "real"


def test_check_when_the_hub_is_down_exits_1_with_a_clear_message(tmp_path: Path) -> None:
    down = SimpleNamespace(url=unreachable_url(), token="any-token")
    result = run_fxhub(["check", *NOW_ARG], down, tmp_path)
    assert result.returncode == 1
    assert f"Hub unreachable at {down.url}" in result.stdout
    assert "is `fxhub serve` running?" in result.stdout

    data = json.loads(run_fxhub(["check", "--json", *NOW_ARG], down, tmp_path).stdout)
    assert data["ok"] is False
    assert data["error"]["title"] == f"❌ Hub unreachable at {down.url}"


def test_check_with_only_ig_candles_is_waiting_and_exits_1(
    hub_process: Callable[..., Any], tmp_path: Path
) -> None:
    hub = hub_process()
    fill_hub(hub, ("IG",), pairs=("EUR_USD", "USD_JPY"))

    result = run_fxhub(["check", *NOW_ARG], hub, tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "EUR_USD: ⚠️ WAITING: No DataBento candles yet." in result.stdout
    assert "the Databento collector is not pushing" in result.stdout
    assert "GBP_USD: ❌ NO DATA: no candles at all." in result.stdout
    assert "❌ pipeline unhealthy: 3 errors" in result.stdout

    data = json.loads(run_fxhub(["check", "--json", "--pair", "USD_JPY", *NOW_ARG], hub, tmp_path).stdout)
    assert [(p["pair"], p["verdict"], p["ig"]) for p in data["pairs"]] == [
        ("USD_JPY", "⚠️ WAITING: No DataBento candles yet.", 60)
    ]


def test_check_with_only_ig_candles_while_cme_is_closed_is_waiting_but_exits_0(
    hub_process: Callable[..., Any], tmp_path: Path
) -> None:
    hub = hub_process()
    fill_hub(hub, ("IG",))
    at_the_break = ["--now", "2025-11-04T22:30:00Z"]  # 16:30 Chicago: CME's daily break, spot trades
    result = run_fxhub(["check", "--stale-after", "60", *at_the_break], hub, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "CME is closed now; it opens 2025-11-04 23:00 UTC (in 30 min)" in result.stdout


def test_check_refuses_an_unknown_pair_naming_the_known_ones(tmp_path: Path) -> None:
    result = run_fxhub(
        ["check", "--pair", "EUR_CHF"], SimpleNamespace(url=unreachable_url(), token="t"), tmp_path
    )
    assert result.returncode == 2
    assert "EUR_USD, GBP_USD, USD_JPY" in result.stderr
