"""Nothing lost, nothing doubled: the hub killed with SIGKILL mid-push, a collector killed mid-batch.

Real processes throughout: `fxhub serve` on SQLite and on PostgreSQL, collectors as separate Python
processes pushing through their durable outboxes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from fxhub.hub.client import connect_to_data_hub
from fxhub.model import Source

sys.path.insert(0, str(Path(__file__).with_name("client")))
from client_support import T0, databento_candle, ig_candle

SCRIPT = Path(__file__).with_name("fault_pusher.py")
MINUTES = 3000
POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh store per test: a SQLite file, or a new PostgreSQL database dropped afterwards."""
    if request.param == "sqlite":
        yield str(tmp_path / "hub.sqlite3")
        return
    name = f"fxhub_fault_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(POSTGRES_ADMIN, autocommit=True)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL must run on 127.0.0.1:5432 for the fault tests (.ci/run starts it): {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _pusher(
    hub_url: str, token: str, outbox: Path, source: str, first: int, count: int, put: bool = True
) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FXHUB_")} | {"FXHUB_TOKEN": token}
    return subprocess.Popen(
        [
            sys.executable,
            str(SCRIPT),
            hub_url,
            str(outbox),
            source,
            str(first),
            str(count),
            "1" if put else "0",
        ],
        env=env,
        cwd=outbox.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_for_line(
    process: subprocess.Popen[str], predicate: Callable[[str], bool], timeout_s: float
) -> None:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if predicate(line):
            return
        if not line and process.poll() is not None:
            break
    raise AssertionError(f"the pusher never printed the expected line (exit {process.poll()})")


def _assert_each_minute_once(url: str, token: str, count: int) -> None:
    with connect_to_data_hub(url, token) as client:
        inventory = {item.source: item.count for item in client.inventory() if item.symbol == "EUR_USD"}
        stored = client.get_candles("EUR_USD", T0, T0 + timedelta(minutes=count))
    assert inventory == {Source.IG: count, Source.DATABENTO: count}
    keys = [(c.source, c.timestamp) for c in stored]
    assert len(keys) == len(set(keys)) == 2 * count
    expected = {c.key: c for m in range(count) for c in (ig_candle(m), databento_candle(m))}
    assert {c.key: c for c in stored} == expected  # every field as the collectors built it


def test_hub_killed_with_sigkill_while_two_collectors_push_loses_nothing(
    hub_process: Callable[..., object], store_url: str, tmp_path: Path
) -> None:
    hub = hub_process(store_url=store_url)
    pushers = [
        _pusher(hub.url, hub.token, tmp_path / f"{s}.outbox", s, 0, MINUTES) for s in ("IG", "DATABENTO")
    ]
    _wait_for_line(
        pushers[0], lambda line: line.startswith("queued") and int(line.split()[1]) >= MINUTES // 3, 60
    )
    hub.kill9()  # mid-push: some batches acknowledged, some in flight, most still queued
    time.sleep(0.5)  # the collectors meet a dead hub and back off
    hub.start()  # same port, same store, same token
    outputs = [p.communicate(timeout=180)[0] for p in pushers]
    assert [p.returncode for p in pushers] == [0, 0], outputs
    _assert_each_minute_once(hub.url, hub.token, MINUTES)


def test_collector_killed_mid_batch_and_restarted_loses_and_doubles_nothing(
    hub_process: Callable[..., object], store_url: str, tmp_path: Path
) -> None:
    hub = hub_process(store_url=store_url)
    outboxes = {s: tmp_path / f"{s}.outbox" for s in ("IG", "DATABENTO")}
    first = [_pusher(hub.url, hub.token, outboxes[s], s, 0, MINUTES) for s in outboxes]
    for process in first:
        _wait_for_line(
            process, lambda line: line.startswith("queued") and int(line.split()[1]) >= MINUTES // 2, 60
        )
        os.kill(process.pid, signal.SIGKILL)  # between put and push, or mid-push: no cleanup
        process.wait(10)
        assert process.stdout is not None
        process.stdout.close()
    # The restarted collectors produce their candles again from the start, as a collector re-reading
    # its source does; what the killed run already queued or pushed must not be stored twice.
    second = [_pusher(hub.url, hub.token, outboxes[s], s, 0, MINUTES) for s in outboxes]
    outputs = [p.communicate(timeout=180)[0] for p in second]
    assert [p.returncode for p in second] == [0, 0], outputs
    _assert_each_minute_once(hub.url, hub.token, MINUTES)
