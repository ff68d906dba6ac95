"""Run the real `fxhub` command as a subprocess against a test hub."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any


def run_fxhub(
    args: list[str], hub: Any, cwd: Path, *, outbox: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """`python -m fxhub ARGS --hub URL [--outbox PATH]` with the hub's token and no other FXHUB_ setting."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FXHUB_")} | {"FXHUB_TOKEN": hub.token}
    tail = ["--hub", hub.url, *(["--outbox", str(outbox)] if outbox is not None else [])]
    return subprocess.run(
        [sys.executable, "-m", "fxhub", *args, *tail],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
