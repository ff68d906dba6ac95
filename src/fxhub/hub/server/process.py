"""`fxhub serve` as a child process: the command, waiting until it answers, stopping it.

The demo, the benchmarks and the tests all run real hub processes; this is the one place that knows how.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Final

import httpx

__all__ = ["HUB_ENV_SETTINGS", "free_port", "serve_command", "stop_process", "wait_until_answering"]

HUB_ENV_SETTINGS: Final = ("FXHUB_TOKEN", "FXHUB_STORE", "FXHUB_URL", "FXHUB_TOKEN_FILE")
"""What a child hub must not inherit from the caller's environment unless it is meant to."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def serve_command(*, port: int, store: str, log_level: str = "INFO", extra: Sequence[str] = ()) -> list[str]:
    """`python -m fxhub serve` on 127.0.0.1:`port` with `store`, by this interpreter."""
    return [
        sys.executable,
        "-m",
        "fxhub",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--store",
        store,
        "--log-level",
        log_level,
        *extra,
    ]


def wait_until_answering(
    process: subprocess.Popen[bytes], url: str, *, path: str = "/healthz", timeout_s: float
) -> str | None:
    """Poll `url + path` until it answers 200: None then, else why not (exited, or timed out).

    The process is left as it is either way; the caller decides whether to stop it.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return f"exited with code {process.returncode} before answering {path}"
        try:
            if httpx.get(f"{url}{path}", timeout=10.0).status_code == 200:
                return None
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    return f"did not answer {path} within {timeout_s:.0f} s"


def stop_process(process: subprocess.Popen[bytes] | None, timeout_s: float) -> int | None:
    """SIGTERM, wait up to `timeout_s`, then SIGKILL; the exit code (None when there is no process)."""
    if process is None:
        return None
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout_s)
    return process.returncode
