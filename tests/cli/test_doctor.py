"""`fxhub doctor` against a real hub process: healthy, down, a wrong token, only IG data."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from cli_support import run_fxhub
from ops_support import NOW_ARG, fill_hub, unreachable_url

from fxhub.settings import SETTING_NAMES

DATABENTO_KEY = "db-test-key-0123456789-wxyz"
IG_PASSWORD = "ig-test-password-secret-42"


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A wide terminal, and no key from the developer's shell: each test sets what it needs."""
    monkeypatch.setenv("COLUMNS", "200")
    for name in SETTING_NAMES:
        if not name.startswith("FXHUB_"):  # run_fxhub sets those
            monkeypatch.delenv(name, raising=False)


def test_doctor_on_a_healthy_pipeline_finds_no_error_and_never_prints_a_secret(
    hub_process: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = hub_process()
    fill_hub(hub, ("DATABENTO", "IG"))
    monkeypatch.setenv("DATABENTO_API_KEY", DATABENTO_KEY)
    (tmp_path / ".env").write_text(
        f"IG_USERNAME=trader\nIG_PASSWORD={IG_PASSWORD}\nIG_API_KEY=ig-api-0123456789\n"
    )

    result = run_fxhub(["doctor", *NOW_ARG], hub, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    for line in (
        f"✅ Hub reachable at {hub.url}",
        "✅ Authenticated: a read with the token works",
        "✅ DATABENTO_API_KEY set (****yz)",
        "✅ IG settings set",
        "✅ CME FX futures are open",
        "✅ The DATABENTO collector pushed: newest candle 2025-11-04 13:59 UTC",
        "✅ The IG collector pushed: newest candle 2025-11-04 13:59 UTC",
        "✅ EUR_USD: enough DATABENTO candles for the 50% rule",
        "✅ Candles carry their source metadata",
    ):
        assert line in out, out
    assert "180 candles since the hub started" in out  # from the hub's /metrics
    assert DATABENTO_KEY not in out + result.stderr
    assert IG_PASSWORD not in out + result.stderr

    data = json.loads(run_fxhub(["doctor", "--json", "--pair", "EUR_USD", *NOW_ARG], hub, tmp_path).stdout)
    assert data["ok"] is True
    assert not [f for f in data["findings"] if f["severity"] == "error"]


def test_doctor_when_the_hub_is_down_says_so_and_exits_1(tmp_path: Path) -> None:
    down = SimpleNamespace(url=unreachable_url(), token="any-token")
    result = run_fxhub(["doctor", *NOW_ARG], down, tmp_path)
    assert result.returncode == 1
    assert f"❌ Hub unreachable at {down.url}" in result.stdout
    assert "→ Start `fxhub serve`" in result.stdout
    assert "DATABENTO_API_KEY not set" in result.stdout  # the local checks still run


def test_doctor_with_a_wrong_token_says_the_token_is_refused(
    hub_process: Callable[..., Any], tmp_path: Path
) -> None:
    hub = hub_process()
    result = run_fxhub(["doctor", "--token", "not-the-hub-token", *NOW_ARG], hub, tmp_path)
    assert result.returncode == 1
    assert "❌ The hub refused the token" in result.stdout
    assert "the token came from the `token` argument" in result.stdout
    assert "not-the-hub-token" not in result.stdout


def test_doctor_with_only_ig_data_blames_the_databento_collector_and_the_50_percent_rule(
    hub_process: Callable[..., Any], tmp_path: Path
) -> None:
    hub = hub_process()
    fill_hub(hub, ("IG",), pairs=("EUR_USD",))
    data = json.loads(run_fxhub(["doctor", "--json", "--pair", "EUR_USD", *NOW_ARG], hub, tmp_path).stdout)
    assert data["ok"] is False
    found = {f["title"]: f for f in data["findings"]}
    missing = found["No DATABENTO candles in the hub: its collector has not pushed"]
    assert missing["severity"] == "error"
    assert "fxhub collect databento --live" in missing["action"]
    [rule] = [f for title, f in found.items() if title.startswith("EUR_USD: too few DATABENTO candles")]
    assert rule["severity"] == "warn"
    assert "DATABENTO has no candles" in rule["detail"]
