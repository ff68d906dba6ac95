"""Real hub processes (`python -m fxhub serve`) on loopback, shared by every test folder.

`hub_process(store_url=..., extra_args=...)` starts one and waits until /healthz answers; the object it
returns can `stop()` it (SIGTERM, then SIGKILL), `kill9()` it and `restart()` it on the same port, store
and token, which is what the fault tests need. Each process writes its output to a log file that is
printed when it fails to start.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from fxhub.hub.server import read_token_file
from fxhub.hub.server.process import (
    HUB_ENV_SETTINGS,
    free_port,
    serve_command,
    stop_process,
    wait_until_answering,
)

STARTUP_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 15.0
_PORT_ATTEMPTS = 3
_RESTART_PORT_ATTEMPTS = 20


class HubStartError(RuntimeError):
    """The hub process exited or did not answer /healthz in time; the message holds its log."""


@dataclass
class HubProcess:
    """One `fxhub serve` process; `url` and `token` stay the same across `restart()`."""

    store_url: str
    workdir: Path
    extra_args: tuple[str, ...] = ()
    env_overrides: dict[str, str] = field(default_factory=dict)
    port: int = 0
    token: str = ""
    starts: int = 0
    process: subprocess.Popen[bytes] | None = None
    log_path: Path = field(init=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def token_file(self) -> Path:
        return self.workdir / "config" / "hub.token"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_text(self) -> str:
        """Everything every start of this hub has written so far."""
        logs = sorted(self.workdir.glob("hub-*.log"))
        return "".join(path.read_text(encoding="utf-8", errors="replace") for path in logs)

    def start(self) -> None:
        """Start the process (a new port on the first start only) and wait until /healthz is 200."""
        fixed_port = self.port != 0
        attempts = _RESTART_PORT_ATTEMPTS if fixed_port else _PORT_ATTEMPTS
        for attempt in range(attempts):
            if not fixed_port:
                self.port = free_port()
            try:
                self._spawn_and_wait()
                return
            except HubStartError as exc:
                in_use = "address already in use" in str(exc).lower()
                if not in_use or attempt == attempts - 1:
                    raise
                if fixed_port:
                    time.sleep(0.5)  # a restart waits for its port; a first start takes another one

    def _spawn_and_wait(self) -> None:
        self.starts += 1
        self.log_path = self.workdir / f"hub-{self.starts:02d}.log"
        env = {k: v for k, v in os.environ.items() if k not in HUB_ENV_SETTINGS}
        env |= {"FXHUB_TOKEN_FILE": str(self.token_file), "PYTHONUNBUFFERED": "1"}
        env |= self.env_overrides
        command = serve_command(port=self.port, store=self.store_url, extra=self.extra_args)
        with self.log_path.open("wb") as log:
            # cwd is the test's folder, so no developer .env is read.
            self.process = subprocess.Popen(
                command, cwd=self.workdir, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        problem = wait_until_answering(self.process, self.url, timeout_s=STARTUP_TIMEOUT_SECONDS)
        if problem is not None:
            self.stop()
            self._fail(problem)
        token = self.env_overrides.get("FXHUB_TOKEN") or read_token_file(self.token_file)
        if token is None:
            self._fail(f"is up but wrote no token file at {self.token_file}")
        self.token = token if isinstance(token, str) else token.reveal()

    def _fail(self, what: str) -> None:
        log = self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""
        message = f"hub process on port {self.port} {what}; its log ({self.log_path}):\n{log}"
        print(message, file=sys.stderr)
        raise HubStartError(message)

    def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> int | None:
        """SIGTERM, wait up to `timeout`, then SIGKILL; the exit code (None if it was not running)."""
        return stop_process(self.process, timeout)

    def kill9(self) -> None:
        """SIGKILL, no chance to clean up: what a crash or an OOM kill does."""
        process = self.process
        if process is not None and process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(STOP_TIMEOUT_SECONDS)

    def restart(self) -> None:
        """Stop the hub if it still runs, then start it again on the same port, store and token file."""
        self.stop()
        self.start()


HubProcessFactory = Callable[..., HubProcess]


@pytest.fixture
def hub_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcessFactory]:
    """Start real hub processes: `hub_process(store_url=None, extra_args=(), env=None)`.

    `store_url` defaults to a new SQLite file; `env` adds variables (e.g. `{"FXHUB_TOKEN": "..."}`;
    without it the hub generates a token into its own token file, read back into `.token`).
    Every process still running at teardown is stopped.
    """
    started: list[HubProcess] = []

    def start(
        store_url: str | None = None,
        extra_args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
    ) -> HubProcess:
        workdir = tmp_path_factory.mktemp("hub")
        hub = HubProcess(
            store_url=store_url if store_url is not None else str(workdir / "hub.sqlite3"),
            workdir=workdir,
            extra_args=tuple(extra_args),
            env_overrides=dict(env or {}),
        )
        started.append(hub)
        hub.start()
        return hub

    yield start
    for hub in started:
        hub.stop()
