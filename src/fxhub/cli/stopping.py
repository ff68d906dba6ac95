"""How long-running commands stop: the first SIGINT or SIGTERM asks them to finish and drain.

Inside `stop_on_signals()` the first SIGINT or SIGTERM only sets the yielded `StopEvent`; the command
stops taking new data, emits the minute in progress marked `complete=False` (it was cut short) and drains
its outbox into the hub for a bounded time. A second signal restores the previous handlers and delivers
itself again: the process ends at once, and the candles already committed to the outbox stay there.

The handler does nothing but set the event (logging from a signal handler can re-enter a stream write),
so the command logs the stop when it sees the event.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from types import FrameType
from typing import Final

from fxhub.errors import FxhubError
from fxhub.model import Candle
from fxhub.sources.pacing import Pacer

__all__ = ["STOP_SIGNALS", "CutShort", "ReplayStopped", "StopEvent", "StoppablePacer", "stop_on_signals"]

STOP_SIGNALS: Final = (signal.SIGINT, signal.SIGTERM)


class StopEvent(threading.Event):
    """Set by the first stop signal; `signal_name` says which one (None while not set by a signal)."""

    def __init__(self) -> None:
        super().__init__()
        self.signal_name: str | None = None


@contextmanager
def stop_on_signals() -> Iterator[StopEvent]:
    """Within the block, SIGINT and SIGTERM set the yielded event (a second one ends the process)."""
    stop = StopEvent()
    if threading.current_thread() is not threading.main_thread():
        yield stop  # handlers can only be set in the main thread
        return
    previous: dict[int, Callable[[int, FrameType | None], object] | int | None] = {}

    def restore() -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

    def handle(signum: int, _frame: FrameType | None) -> None:
        if stop.is_set():
            restore()
            signal.raise_signal(signum)
            return
        stop.signal_name = signal.Signals(signum).name
        stop.set()

    previous.update({signum: signal.signal(signum, handle) for signum in STOP_SIGNALS})
    try:
        yield stop
    finally:
        restore()


class ReplayStopped(FxhubError):
    """A replay was asked to stop; the command catches it, closes the minute in progress and drains."""


class StoppablePacer(Pacer):
    """A `Pacer` that raises `ReplayStopped` before the next record once `stop` is set, and whose
    waits end as soon as it is."""

    def __init__(self, speed: float | None, stop: threading.Event) -> None:
        super().__init__(speed, sleep=self._sleep)
        self._stop = stop

    def wait_until(self, ts_ns: int) -> None:
        if self._stop.is_set():
            raise ReplayStopped("the replay was stopped by a signal")
        super().wait_until(ts_ns)
        if self._stop.is_set():
            raise ReplayStopped("the replay was stopped by a signal")

    def _sleep(self, seconds: float) -> None:
        self._stop.wait(seconds)


class CutShort:
    """Passes candles on to `handler`; once `cut` is set they go out `complete=False` (cut short)."""

    def __init__(self, handler: Callable[[Candle], None]) -> None:
        self.handler = handler
        self.cut = False

    def __call__(self, candle: Candle) -> None:
        self.handler(replace(candle, complete=False) if self.cut else candle)
