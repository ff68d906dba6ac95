"""SIGTERM to a running collector process: it cuts the minute in progress, drains the outbox, exits 0.

A paced replay (`--file ... --speed`) stops exactly as the live collectors do (the same signal handling,
sink and drain), and unlike a live feed its data times do not depend on the wall clock, so it is what runs
here against a real hub process. The log file is checked for JSON lines and for secrets.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from fxhub.hub.client import connect_to_data_hub
from fxhub.hub.client.outbox import Outbox
from fxhub.model import Source
from fxhub.sim import SimulationConfig, simulate

START = datetime(2025, 11, 4, 13, 0, tzinfo=UTC)
MINUTES = 10
SPEED = 60.0  # a data minute a wall second
RUN_BEFORE_SIGTERM_S = 2.5
READY_TIMEOUT_S = 60.0
EXIT_TIMEOUT_S = 30.0
PAIRS = ("EUR_USD", "GBP_USD", "USD_JPY")
SECRETS = {
    "IG_USERNAME": "ig-user-for-the-sigterm-test",
    "IG_PASSWORD": "ig-PASSWORD-must-never-be-logged-7d1f",
    "IG_API_KEY": "ig-APIKEY-must-never-be-logged-0c2e",
    "DATABENTO_API_KEY": "db-APIKEY-must-never-be-logged-91ab",
}


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("market")
    simulate(SimulationConfig(start=START, minutes=MINUTES, seed=5), out)
    return out


def _wait_for(path: Path, text: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text(encoding="utf-8"):
            return
        if process.poll() is not None:
            pytest.fail(f"the collector exited with {process.returncode} before logging {text!r}")
        time.sleep(0.05)
    process.kill()
    pytest.fail(f"the collector did not log {text!r} within {READY_TIMEOUT_S} s")


@pytest.mark.parametrize(
    ("collector", "source", "pattern"),
    [("ig", Source.IG, "ig/*.ticks.csv"), ("databento", Source.DATABENTO, "cme/*.mbp-10.dbn.zst")],
)
def test_sigterm_mid_replay_cuts_the_minute_drains_the_outbox_and_exits_0(
    hub_process: Callable[..., Any],
    market: Path,
    tmp_path: Path,
    collector: str,
    source: Source,
    pattern: str,
) -> None:
    hub = hub_process()
    log_file, outbox = tmp_path / "collector.jsonl", tmp_path / "outbox.sqlite3"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FXHUB_", "IG_", "DATABENTO_"))}
    env |= SECRETS | {"FXHUB_TOKEN": hub.token, "PYTHONUNBUFFERED": "1"}
    files = sorted(str(p) for p in market.glob(pattern))
    command = [sys.executable, "-m", "fxhub", "--log-level", "DEBUG", "collect", collector, "--file", *files,
               "--speed", str(SPEED), "--hub", hub.url, "--outbox", str(outbox), "--drain-timeout", "10",
               "--log-file", str(log_file)]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    _wait_for(log_file, f"{collector} collector: outbox", process)
    time.sleep(RUN_BEFORE_SIGTERM_S)
    process.send_signal(signal.SIGTERM)
    began = time.monotonic()
    stdout, stderr = process.communicate(timeout=EXIT_TIMEOUT_S)
    assert process.returncode == 0, stdout + stderr
    assert time.monotonic() - began < 15

    records = [json.loads(line) for line in log_file.read_text(encoding="utf-8").splitlines()]
    assert all({"ts", "level", "logger", "msg"} <= set(r) for r in records)
    assert any(r["msg"].endswith("stopping on SIGTERM; the minute in progress goes out incomplete, "
                                 "then the outbox drains") for r in records)  # fmt: skip
    (drained,) = [r for r in records if r["msg"].startswith("outbox drained:")]
    assert drained["left"] == 0
    assert 0 < drained["queued"] < len(PAIRS) * MINUTES  # stopped mid-run

    with Outbox(outbox) as box:
        assert box.pending() == 0
    with connect_to_data_hub(hub.url, hub.token) as client:
        held = {
            pair: client.get_candles(pair, START, START + timedelta(minutes=MINUTES), source=source)
            for pair in PAIRS
        }
    assert sum(len(candles) for candles in held.values()) == drained["queued"]
    for candles in held.values():
        if candles:
            assert candles[-1].complete is False  # the minute the SIGTERM cut short
            assert all(c.complete is None for c in candles[:-1])

    everything = log_file.read_text(encoding="utf-8") + stdout + stderr
    for secret in [*SECRETS.values(), hub.token]:
        assert secret not in everything
