"""`fxhub.cli.stopping`: a first signal asks to stop, replays stop between records, cut minutes are marked."""

from __future__ import annotations

import os
import signal
import threading
import time
from datetime import UTC, datetime

import pytest

from fxhub.cli.stopping import CutShort, ReplayStopped, StopEvent, StoppablePacer, stop_on_signals
from fxhub.model import Candle, Source, VolumeType


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_the_first_signal_sets_the_event_and_the_handlers_are_restored_after(signum: int) -> None:
    before = signal.getsignal(signum)
    with stop_on_signals() as stop:
        os.kill(os.getpid(), signum)
        assert stop.wait(5)
        assert stop.signal_name == signal.Signals(signum).name
    assert signal.getsignal(signum) is before


def test_a_second_signal_goes_to_the_previous_handler() -> None:
    calls: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, _frame: calls.append(signum))
    try:
        with stop_on_signals() as stop:
            os.kill(os.getpid(), signal.SIGTERM)
            assert stop.wait(5)
            os.kill(os.getpid(), signal.SIGTERM)
            deadline = time.monotonic() + 5
            while not calls and time.monotonic() < deadline:
                time.sleep(0.01)
        assert calls == [signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_outside_the_main_thread_the_event_is_only_set_by_hand() -> None:
    seen: list[StopEvent] = []

    def run() -> None:
        with stop_on_signals() as stop:
            seen.append(stop)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(5)
    (stop,) = seen
    assert not stop.is_set()


def test_stoppable_pacer_raises_before_the_next_record_once_stopped() -> None:
    stop = threading.Event()
    pacer = StoppablePacer(None, stop)
    pacer.wait_until(1)
    stop.set()
    with pytest.raises(ReplayStopped):
        pacer.wait_until(2)


def test_stoppable_pacer_ends_a_long_wait_as_soon_as_it_is_stopped() -> None:
    stop = threading.Event()
    pacer = StoppablePacer(0.001, stop)  # one data second takes 1000 wall seconds
    pacer.wait_until(0)
    threading.Timer(0.1, stop.set).start()
    began = time.monotonic()
    with pytest.raises(ReplayStopped):
        pacer.wait_until(1_000_000_000)
    assert time.monotonic() - began < 5


def test_cut_short_marks_candles_incomplete_only_once_cut() -> None:
    out: list[Candle] = []
    handler = CutShort(out.append)
    candle = Candle(
        symbol="EUR_USD",
        timestamp=datetime(2025, 11, 4, 14, 0, tzinfo=UTC),
        open=1.1,
        high=1.1,
        low=1.1,
        close=1.1,
        volume=3,
        source=Source.IG,
        volume_type=VolumeType.TICK,
    )
    handler(candle)
    handler.cut = True
    handler(candle)
    assert [c.complete for c in out] == [None, False]
