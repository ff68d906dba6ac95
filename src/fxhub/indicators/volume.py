"""Volume spike: the last bar's volume against a rolling baseline of the bars before it.

ratio = v / mean(baseline), z-score = (v − mean) / std(baseline, ddof=1). Both are computed for any
volume, but only real traded volume makes them meaningful: a spike in IG's quote count says the quotes
moved, not that anyone traded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fxhub.indicators.ta import FloatArray

__all__ = ["VolumeSpike", "volume_spike"]


@dataclass(frozen=True, slots=True)
class VolumeSpike:
    """Ratio and z-score of the last volume (None where the baseline has no mean or spread)."""

    ratio: float | None
    zscore: float | None
    baseline_mean: float | None
    baseline_bars: int


def volume_spike(volume: FloatArray, baseline_bars: int) -> VolumeSpike:
    """Compare volume[-1] with the up to `baseline_bars` bars before it."""
    if len(volume) < 3:
        return VolumeSpike(ratio=None, zscore=None, baseline_mean=None, baseline_bars=max(len(volume) - 1, 0))
    current = float(volume[-1])
    baseline = volume[-1 - baseline_bars : -1]
    mean = float(baseline.mean())
    std = float(np.std(baseline, ddof=1))
    return VolumeSpike(
        ratio=current / mean if mean > 0 else None,
        zscore=(current - mean) / std if std > 0 else None,
        baseline_mean=mean,
        baseline_bars=len(baseline),
    )
