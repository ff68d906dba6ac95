"""The outbox alone: the spool file, its order across restarts, and the pusher's answer to each hub reply.

The hub is a stand-in on httpx's MockTransport, or a real `HubClient` pointed at a closed port; backoff
is observed through `backoff_s`, never waited for.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from client_support import FakeHub, databento_candle, ig_candle

from fxhub.errors import ValidationError
from fxhub.hub.client import HubClient, HubUnauthorized, Outbox, OutboxPusher

MakeClient = Callable[[], HubClient]


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    with Outbox(tmp_path / "spool" / "outbox.sqlite") as box:
        yield box


def _minutes(rows: list[dict[str, object]]) -> list[str]:
    return [str(row["timestamp"]) for row in rows]


# --- the spool -----------------------------------------------------------------------------------


def test_put_counts_candles_as_pending(outbox: Outbox) -> None:
    assert outbox.pending() == 0
    assert outbox.put([ig_candle(0), databento_candle(0)]) == 2
    assert outbox.put([]) == 0
    assert outbox.pending() == 2


def test_outbox_reopened_after_restart_keeps_candles_in_insertion_order(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    with Outbox(path) as first:
        first.put([ig_candle(minute) for minute in (5, 1, 3)])
        first.delete([first.peek(1)[0].id])  # the oldest was pushed before the restart
    with Outbox(path) as second:
        second.put([ig_candle(0)])
        rows = second.peek(10)
    assert [row.candle.timestamp.minute for row in rows if row.candle] == [1, 3, 0]
    assert [row.id for row in rows] == sorted(row.id for row in rows)


def test_outbox_round_trips_every_candle_field(outbox: Outbox) -> None:
    candles = [ig_candle(7), databento_candle(7)]
    outbox.put(candles)
    assert [row.candle for row in outbox.peek(10)] == candles


def test_outbox_file_is_in_wal_mode(outbox: Outbox) -> None:
    with sqlite3.connect(outbox.path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_put_with_a_non_candle_stores_nothing(outbox: Outbox) -> None:
    with pytest.raises(ValidationError, match=r"candles\[1\]"):
        outbox.put([ig_candle(0), {"symbol": "EUR_USD"}])  # type: ignore[list-item]
    with pytest.raises(ValidationError, match="wrap one"):
        outbox.put(ig_candle(0))  # type: ignore[arg-type]
    assert outbox.pending() == 0


def test_candles_put_survive_kill_9_of_the_collector(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from client_support import ig_candle
        from fxhub.hub.client import Outbox
        box = Outbox(__import__("pathlib").Path({str(path)!r}))
        box.put([ig_candle(m) for m in range(100)])
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], check=False, timeout=60)
    assert done.returncode == -signal.SIGKILL
    with Outbox(path) as reopened:
        assert reopened.pending() == 100


# --- the pusher ----------------------------------------------------------------------------------


def test_drain_once_pushes_oldest_batches_in_order_and_deletes_them(
    outbox: Outbox, fake_hub: FakeHub, fake_client: MakeClient
) -> None:
    outbox.put([ig_candle(minute) for minute in range(25)])
    pusher = OutboxPusher(outbox, fake_client(), batch_size=10)
    assert [pusher.drain_once() for _ in range(4)] == [10, 10, 5, 0]
    assert [len(batch) for batch in fake_hub.pushes] == [10, 10, 5]
    assert _minutes(fake_hub.pushed) == [ig_candle(minute).to_dict()["timestamp"] for minute in range(25)]
    assert outbox.pending() == 0
    assert pusher.stats.pushed == 25
    assert pusher.stats.last_success is not None


def test_drain_once_against_a_closed_port_keeps_rows_and_backs_off_exponentially(
    outbox: Outbox, closed_port_url: str
) -> None:
    outbox.put([ig_candle(0), ig_candle(1)])
    with HubClient(closed_port_url, "t0ken", timeout_s=2.0) as client:
        pusher = OutboxPusher(outbox, client, initial_backoff_s=0.1, max_backoff_s=0.5)
        backoffs = []
        for _ in range(5):
            assert pusher.drain_once() == 0
            backoffs.append(pusher.backoff_s)
    assert outbox.pending() == 2
    assert pusher.stats.retries == 5
    assert "is `fxhub serve` running?" in (pusher.stats.last_error or "")
    # Jitter keeps each wait within [ceiling/2, ceiling]; ceilings double up to the cap.
    for backoff, ceiling in zip(backoffs, (0.1, 0.2, 0.4, 0.5, 0.5), strict=True):
        assert ceiling / 2 <= backoff <= ceiling


def test_drain_once_after_a_5xx_retries_and_resets_backoff_on_success(
    outbox: Outbox, fake_hub: FakeHub, fake_client: MakeClient
) -> None:
    outbox.put([ig_candle(0)])
    fake_hub.reply_next(503, {"error": "the store does not answer", "detail": None})
    pusher = OutboxPusher(outbox, fake_client())
    assert pusher.drain_once() == 0
    assert pusher.backoff_s > 0
    assert pusher.drain_once() == 1
    assert pusher.backoff_s == 0
    assert (pusher.stats.retries, pusher.stats.pushed, outbox.pending()) == (1, 1, 0)


def test_rejected_candle_is_dead_lettered_with_reason_and_the_rest_still_pushed(
    outbox: Outbox, fake_hub: FakeHub, fake_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    outbox.put([ig_candle(minute) for minute in range(4)])
    reason = {"index": 2, "field": "high", "value": 1.1, "rule": "must be ≥ low (1.2)", "message": "bad"}
    fake_hub.reply_next(422, {"error": "1 of 4 candles are invalid; nothing was stored", "detail": [reason]})
    pusher = OutboxPusher(outbox, fake_client())
    assert pusher.drain_once() == 0
    assert pusher.drain_once() == 3
    assert _minutes(fake_hub.pushed) == [ig_candle(m).to_dict()["timestamp"] for m in (0, 1, 3)]
    [dead] = outbox.dead_letters()
    assert json.loads(dead.raw) == ig_candle(2).to_dict()
    assert json.loads(dead.reason)["rule"] == "must be ≥ low (1.2)"
    assert (pusher.stats.dead_lettered, outbox.pending()) == (1, 0)
    assert any(r.levelname == "ERROR" and "dead-lettered" in r.getMessage() for r in caplog.records)


def test_rejection_without_candle_indices_dead_letters_the_whole_batch(
    outbox: Outbox, fake_hub: FakeHub, fake_client: MakeClient
) -> None:
    outbox.put([ig_candle(0), ig_candle(1)])
    fake_hub.reply_next(422, {"error": "the body is not a candle batch", "detail": None})
    pusher = OutboxPusher(outbox, fake_client())
    assert pusher.drain_once() == 0
    assert outbox.pending() == 0
    assert [json.loads(d.raw)["timestamp"] for d in outbox.dead_letters()] == _minutes(
        [ig_candle(0).to_dict(), ig_candle(1).to_dict()]
    )
    assert "the body is not a candle batch" in outbox.dead_letters()[0].reason


def test_too_large_reply_halves_the_batch_instead_of_dead_lettering(
    outbox: Outbox, fake_hub: FakeHub, fake_client: MakeClient
) -> None:
    outbox.put([ig_candle(minute) for minute in range(8)])
    fake_hub.reply_next(413, {"error": "the body exceeds 8 MiB", "detail": None})
    pusher = OutboxPusher(outbox, fake_client(), batch_size=8)
    assert pusher.drain_once() == 0
    assert pusher.batch_size == 4
    assert [pusher.drain_once(), pusher.drain_once()] == [4, 4]
    assert outbox.dead_letters() == []


def test_unreadable_row_is_dead_lettered_and_does_not_block_the_queue(
    outbox: Outbox, fake_hub: FakeHub, fake_client: MakeClient
) -> None:
    with sqlite3.connect(outbox.path) as db:
        db.execute("INSERT INTO outbox (candle, queued_ns) VALUES ('{\"symbol\": 1}', 0)")
    outbox.put([ig_candle(0)])
    assert OutboxPusher(outbox, fake_client()).drain_once() == 1
    [dead] = outbox.dead_letters()
    assert "not a valid candle" in dead.reason


def test_unauthorized_raises_and_keeps_the_rows(
    outbox: Outbox, fake_hub: FakeHub, fake_client: MakeClient
) -> None:
    outbox.put([ig_candle(0)])
    fake_hub.reply_next(401, {"error": "a valid bearer token is required", "detail": None})
    with pytest.raises(HubUnauthorized, match="the `token` argument"):
        OutboxPusher(outbox, fake_client()).drain_once()
    assert outbox.pending() == 1


def test_background_pusher_pushes_what_is_put_and_stops_with_nothing_left(
    outbox: Outbox, fake_hub: FakeHub, fake_client: MakeClient
) -> None:
    pusher = OutboxPusher(outbox, fake_client(), batch_size=50, idle_poll_s=5.0)
    pusher.start()
    for minute in range(0, 200, 20):
        outbox.put([ig_candle(minute + i) for i in range(20)])
    assert pusher.stop(drain_timeout_s=10.0) == 0
    assert len(fake_hub.pushed) == 200
    assert _minutes(fake_hub.pushed) == sorted(_minutes(fake_hub.pushed))


def test_stop_while_the_hub_is_down_leaves_candles_queued_without_waiting(
    outbox: Outbox, closed_port_url: str
) -> None:
    outbox.put([ig_candle(0)])
    with HubClient(closed_port_url, "t0ken", timeout_s=2.0) as client:
        pusher = OutboxPusher(outbox, client, max_backoff_s=60.0, initial_backoff_s=60.0)
        pusher.start()
        started = time.monotonic()
        while pusher.stats.retries == 0:
            time.sleep(0.01)
        assert pusher.stop(drain_timeout_s=10.0) == 1
    assert time.monotonic() - started < 5.0
    assert outbox.pending() == 1


def test_stop_reraises_the_error_that_ended_the_background_pusher(
    outbox: Outbox, fake_hub: FakeHub, fake_client: MakeClient
) -> None:
    fake_hub.reply_next(401, {"error": "a valid bearer token is required", "detail": None})
    pusher = OutboxPusher(outbox, fake_client(), idle_poll_s=0.01)
    pusher.start()
    outbox.put([ig_candle(0)])
    deadline = time.monotonic() + 10
    while pusher.failure is None and time.monotonic() < deadline:
        threading.Event().wait(0.01)
    with pytest.raises(HubUnauthorized):
        pusher.stop(drain_timeout_s=1.0)
    assert outbox.pending() == 1


def test_pusher_refuses_a_batch_size_beyond_the_hub_limit(outbox: Outbox, fake_client: MakeClient) -> None:
    with pytest.raises(ValidationError, match="batch_size"):
        OutboxPusher(outbox, fake_client(), batch_size=10_001)
