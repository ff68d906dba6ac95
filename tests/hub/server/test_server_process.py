"""`python -m fxhub serve` as a real process on loopback: push, read, stream, stop, crash and restart."""

from __future__ import annotations

import json
import logging
import os
import signal
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from fxhub.hub.server import HubConfig, runner
from fxhub.hub.server.runner import TokenRedactingFilter, serve
from fxhub.settings import Secret

MakeCandle = Callable[..., dict[str, Any]]


def push(hub: Any, candles: list[dict[str, Any]]) -> dict[str, Any]:
    response = httpx.post(f"{hub.url}/v1/candles", json={"candles": candles}, headers=hub.headers, timeout=30)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def latest(hub: Any, limit: int = 100) -> list[dict[str, Any]]:
    response = httpx.get(f"{hub.url}/v1/candles/EUR_USD/latest?limit={limit}", headers=hub.headers)
    assert response.status_code == 200, response.text
    candles: list[dict[str, Any]] = response.json()["candles"]
    return candles


def test_real_hub_pushes_reads_and_reports_health(hub_process: Any, make_candle: MakeCandle) -> None:
    hub = hub_process()
    assert push(hub, [make_candle(m) for m in range(3)])["inserted"] == 3
    assert push(hub, [make_candle(m) for m in range(3)])["unchanged"] == 3
    assert latest(hub) == [make_candle(m) for m in range(3)]
    health = httpx.get(f"{hub.url}/healthz").json()
    assert (health["status"], health["store"], health["candles"]) == ("ok", "sqlite", 3)
    assert httpx.post(f"{hub.url}/v1/candles", json={"candles": [make_candle(9)]}).status_code == 401


def test_real_hub_answers_413_to_big_bodies_with_or_without_a_length(hub_process: Any) -> None:
    hub = hub_process()
    headers = hub.headers | {"content-type": "application/json"}
    declared = httpx.post(
        f"{hub.url}/v1/candles", content=b"x" * (9 * 1024 * 1024), headers=headers, timeout=30
    )

    def chunks() -> Iterator[bytes]:
        for _ in range(20):
            yield b"y" * (512 * 1024)

    streamed = httpx.post(f"{hub.url}/v1/candles", content=chunks(), headers=headers, timeout=30)
    assert (declared.status_code, streamed.status_code) == (413, 413)
    assert "at least" in streamed.json()["error"]
    assert httpx.get(f"{hub.url}/healthz").json()["candles"] == 0


def test_generated_token_is_private_and_survives_a_restart_with_the_data(
    hub_process: Any, make_candle: MakeCandle
) -> None:
    hub = hub_process()
    assert stat.S_IMODE(hub.token_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(hub.token_file.parent.stat().st_mode) == 0o700
    token = hub.token
    push(hub, [make_candle(0)])
    hub.restart()
    assert hub.token == token
    assert latest(hub) == [make_candle(0)]


def test_fxhub_token_from_the_environment_is_used_and_no_file_is_written(hub_process: Any) -> None:
    hub = hub_process(env={"FXHUB_TOKEN": "env-token-for-the-hub"})
    assert hub.token == "env-token-for-the-hub"
    assert not hub.token_file.exists()
    assert httpx.get(f"{hub.url}/v1/inventory", headers=hub.headers).status_code == 200


def test_sigterm_stops_the_hub_cleanly(hub_process: Any) -> None:
    hub = hub_process()
    assert hub.stop() == 0
    log = hub.log_text()
    assert "hub app stopped" in log
    assert "stopped by SIGTERM" in log
    assert "hub stopped; store closed" in log


def test_sigterm_closes_open_streams_and_still_exits_cleanly(hub_process: Any) -> None:
    hub = hub_process()
    with connect(f"{hub.ws_url}/v1/stream?token={hub.token}", proxy=None, open_timeout=10) as ws:
        began = time.monotonic()
        assert hub.stop() == 0
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code in (1001, 1012)
    assert time.monotonic() - began < runner.GRACEFUL_SHUTDOWN_SECONDS


def test_a_push_the_hub_answered_survives_kill_9(hub_process: Any, make_candle: MakeCandle) -> None:
    hub = hub_process()
    push(hub, [make_candle(m) for m in range(50)])
    hub.kill9()
    assert hub.process.returncode == -signal.SIGKILL
    hub.restart()
    assert len(latest(hub)) == 50


def test_start_log_shows_the_config_masked_and_never_the_token(
    hub_process: Any, make_candle: MakeCandle
) -> None:
    hub = hub_process(extra_args=["--allow-anonymous-reads"])
    with connect(f"{hub.ws_url}/v1/stream?token={hub.token}", proxy=None, open_timeout=10) as ws:
        push(hub, [make_candle(0)])
        assert json.loads(ws.recv(timeout=10))["type"] == "candle"
    hub.stop()
    log = hub.log_text()
    assert "allow_anonymous_reads=True" in log
    assert "token=****" in log
    assert "push: 1 candles" in log
    assert "/v1/stream?token=****" in log
    assert hub.token not in log


def test_unusable_store_url_fails_the_start_with_a_clear_error(hub_process: Any) -> None:
    with pytest.raises(RuntimeError, match=r"(?s)exited with code 2.*store must be"):
        hub_process(store_url="mysql://fx@db/fx")


# --- serve(), in-process with uvicorn's run stubbed out --------------------------------------------


def test_serve_warns_when_listening_beyond_loopback_and_closes_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    ran: list[str] = []
    monkeypatch.setattr(runner.uvicorn.Server, "run", lambda self, sockets=None: ran.append(self.config.host))
    caplog.set_level(logging.INFO)
    config = HubConfig(host="0.0.0.0", port=0, token=Secret("a-token-of-some-length"))
    serve(config, default_store_dir=tmp_path)
    assert ran == ["0.0.0.0"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("other machines can reach it" in message for message in warnings)
    assert (tmp_path / "hub.sqlite3").exists()
    assert "a-token-of-some-length" not in caplog.text
    assert "hub stopped; store closed" in caplog.text


def test_serve_on_loopback_does_not_warn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(runner.uvicorn.Server, "run", lambda self, sockets=None: None)
    serve(HubConfig(port=0, token=Secret("t")), default_store_dir=tmp_path)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_serve_refuses_to_run_without_a_token(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="needs a token"):
        serve(HubConfig(port=0), default_store_dir=tmp_path)


def test_token_redacting_filter_masks_query_tokens() -> None:
    record = logging.LogRecord(
        "uvicorn.error",
        logging.INFO,
        __file__,
        1,
        '%s - "WebSocket %s" [accepted]',
        ("1.2.3.4:5", "/v1/stream?symbols=X&token=s3cret&a=b"),
        None,
    )
    assert TokenRedactingFilter().filter(record)
    assert record.getMessage() == '1.2.3.4:5 - "WebSocket /v1/stream?symbols=X&token=****&a=b" [accepted]'


def test_python_dash_m_fxhub_is_the_fxhub_command() -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "fxhub", "serve", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k != "FXHUB_TOKEN"} | {"COLUMNS": "200"},
    )
    assert result.returncode == 0
    assert "--allow-anonymous-reads" in result.stdout
