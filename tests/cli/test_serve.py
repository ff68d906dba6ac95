"""`fxhub serve --log-file`: the hub's records, uvicorn's too, as JSON lines; SIGTERM stops it cleanly."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from websockets.sync.client import connect


def test_serve_log_file_gets_json_lines_without_the_token_and_sigterm_exits_0(
    hub_process: Callable[..., Any], tmp_path: Path
) -> None:
    log_file = tmp_path / "hub.jsonl"
    hub = hub_process(extra_args=["--log-file", str(log_file)])
    with connect(f"{hub.ws_url}/v1/stream?token={hub.token}", proxy=None, open_timeout=10):
        pass  # uvicorn logs the WebSocket URL, query token and all
    assert hub.stop() == 0

    text = log_file.read_text(encoding="utf-8")
    records = [json.loads(line) for line in text.splitlines()]
    assert all({"ts", "level", "logger", "msg"} <= set(r) for r in records)
    messages = [r["msg"] for r in records]
    assert any(m.startswith("fxhub hub ") and "token=****" in m for m in messages)  # config, masked
    assert any(r["logger"].startswith("uvicorn") for r in records)  # uvicorn's records come here too
    assert any("/v1/stream?token=****" in m for m in messages)
    assert "stopped by SIGTERM" in messages
    assert messages[-1] == "hub stopped; store closed"
    assert hub.token not in text


def test_the_cli_does_not_load_the_ig_streaming_client_until_a_live_ig_collector_needs_it() -> None:
    # lightstreamer-client-lib starts threads that wake every millisecond when it is imported; the hub
    # (`fxhub serve`) and every other command go through fxhub.cli.app, so they must not pay for them.
    probe = (
        "import sys, threading, fxhub.cli.app; "
        "print(sorted(m for m in sys.modules if m.startswith('lightstreamer')), threading.active_count())"
    )
    shown = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    assert shown == ["[]", "1"]
