"""Replaying recorded data at a multiple of real time: one pacer for every source's replay."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final

__all__ = ["Pacer"]

MIN_SLEEP_S: Final = 0.001


class Pacer:
    """`wait_until(ts_ns)` sleeps until data time `ts_ns` is due at `speed` × real time (no-op when
    `speed` is None). The clock and sleep are arguments, so tests move time without waiting."""

    def __init__(
        self,
        speed: float | None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.speed = speed
        self._sleep = sleep
        self._clock = clock
        self._origin: tuple[float, int] | None = None  # (wall clock, data ns) of the first record

    def wait_until(self, ts_ns: int) -> None:
        if not self.speed:
            return
        if self._origin is None:
            self._origin = (self._clock(), ts_ns)
        due = self._origin[0] + (ts_ns - self._origin[1]) / 1e9 / self.speed
        wait = due - self._clock()
        if wait > MIN_SLEEP_S:
            self._sleep(wait)
