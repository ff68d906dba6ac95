"""Small timing helpers shared by the benchmarks: repeated runs, medians, percentiles."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence


def repeat_seconds(action: Callable[[], object], repeats: int) -> list[float]:
    """Wall-clock seconds of `repeats` runs of `action`."""
    out = []
    for _ in range(repeats):
        began = time.perf_counter()
        action()
        out.append(time.perf_counter() - began)
    return out


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0–100) by nearest rank."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]
