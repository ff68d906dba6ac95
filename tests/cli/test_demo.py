"""`fxhub demo --once`: a new user's first command runs the whole pipeline and reports, then exits."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fxhub.hub.server.process import free_port


def test_demo_once_fills_a_hub_with_both_sources_for_every_pair_and_exits(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FXHUB_")} | {"COLUMNS": "200"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "fxhub",
            "demo",
            "--once",
            "--minutes",
            "15",
            "--data-dir",
            str(tmp_path),
            "--port",
            str(free_port()),
        ],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    rows = [line for line in out.splitlines() if "Has real trade volume!" in line and "│" in line]
    assert len(rows) == 3
    for pair in ("EUR_USD", "GBP_USD", "USD_JPY"):
        cells = [cell.strip() for cell in next(line for line in rows if pair in line).split("│")]
        assert cells[2:5] == ["30", "15", "15"]  # total, DATABENTO candles, IG candles
    assert "pipeline healthy" in out
    assert "EUR_USD as of" in out  # fxhub market EUR_USD
    assert "DATABENTO (policy auto" in out
    assert "true_vwap" in out
    assert "Dashboard: http://127.0.0.1:" in out
    assert (tmp_path / "hub.sqlite3").is_file()
    assert (tmp_path / "hub.token").stat().st_mode & 0o077 == 0
