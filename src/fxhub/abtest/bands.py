"""Session-anchored VWAP and σ at every bar, as a causal series, for backtests over many bars.

`fxhub.indicators.compute_indicators` gives the session VWAP and its bands at the *last* bar of a frame;
calling it once per bar of a month would cost O(n²). This module computes the same numbers for every bar
at once with running sums, and uses the indicator package's own definitions:

- price of a bar: `typical_price` (H + L + C) / 3;
- session: `session_anchor` of the bar's time ("fx" 17:00 New York, "cme" 17:00 Chicago);
- weights: traded volume (true VWAP, as `volume_stats`), tick counts (a tick-weighted average, same
  formula), or one per minute with the empty minutes between two bars carrying the earlier close
  (TWAP, as `minute_stats`, using `empty_minutes_after`).

The value at bar i uses bars from the session start up to and including bar i only, so it equals what
`compute_indicators` returns for the frame cut after bar i (the tests hold it to that). σ is the weighted
standard deviation of prices around the mean; sums run on prices minus the session's first typical
price, so the ~1e-8 variance of an FX price is not lost in rounding.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt
import pandas as pd

from fxhub.indicators.ta import FloatArray
from fxhub.indicators.vwap import Anchor, empty_minutes_after, session_anchor, typical_price

__all__ = ["BandSeries", "anchored_bands", "session_starts"]


@dataclass(frozen=True, slots=True)
class BandSeries:
    """Per bar: the anchored mean (NaN until some weight arrived), σ, and the session's bars so far."""

    mean: FloatArray
    sigma: FloatArray
    session_bars: npt.NDArray[np.int64]


def session_starts(ts_ns: npt.NDArray[np.int64], anchor: Anchor) -> npt.NDArray[np.int64]:
    """The session start (ns, UTC) of every bar.

    `session_anchor` is non-decreasing in time, so a run of bars whose first and last share an anchor all
    share it: bisecting the bars costs about (sessions × log bars) calls instead of one per bar.
    """
    out = np.empty(len(ts_ns), dtype=np.int64)

    def anchor_of(i: int) -> int:
        moment = datetime.fromtimestamp(int(ts_ns[i]) / 1e9, tz=UTC)
        return pd.Timestamp(session_anchor(moment, anchor)).value

    stack = [(0, len(ts_ns) - 1, anchor_of(0), anchor_of(len(ts_ns) - 1))] if len(ts_ns) else []
    while stack:
        lo, hi, first, last = stack.pop()
        if first == last:
            out[lo : hi + 1] = first
            continue
        if hi - lo == 1:
            out[lo], out[hi] = first, last
            continue
        mid = (lo + hi) // 2
        middle = anchor_of(mid)
        stack.append((lo, mid, first, middle))
        stack.append((mid, hi, middle, last))
    return out


def _segmented_cumsum(values: FloatArray, starts: npt.NDArray[np.intp]) -> FloatArray:
    """Running sums that restart at each index in `starts` (one cumsum per session: a month-long
    running sum minus its value at the session start would lose the tiny variances in rounding)."""
    out = np.empty_like(values)
    bounds = [*starts.tolist(), len(values)]
    for lo, hi in itertools.pairwise(bounds):
        out[lo:hi] = np.cumsum(values[lo:hi])
    return out


def anchored_bands(frame: pd.DataFrame, weights: FloatArray | None, anchor: Anchor) -> BandSeries:
    """Session-anchored weighted mean and σ of typical prices at every bar of `frame`.

    `frame`: UTC minute-start index, columns high, low, close. `weights`: volume or tick count per bar
    (NaN counts as 0), or None for TWAP (equal weight per minute, empty minutes carrying the close).
    """
    n = len(frame)
    high = frame["high"].to_numpy(dtype=np.float64)
    low = frame["low"].to_numpy(dtype=np.float64)
    close = frame["close"].to_numpy(dtype=np.float64)
    ts_ns = pd.DatetimeIndex(frame.index).as_unit("ns").asi8
    tp = typical_price(high, low, close)
    if n == 0:
        empty = np.empty(0, dtype=np.float64)
        return BandSeries(empty, empty, np.empty(0, dtype=np.int64))

    starts_ns = session_starts(ts_ns, anchor)
    first_of_segment = np.flatnonzero(np.concatenate([[True], starts_ns[1:] != starts_ns[:-1]]))
    segment = np.cumsum(np.concatenate([[0], (starts_ns[1:] != starts_ns[:-1]).astype(np.intp)]))
    reference = tp[first_of_segment][segment]
    d_tp = tp - reference
    # A bar at a closed instant (e.g. one stamped 16:00 Chicago) is before its anchor, the next session's
    # start: like `compute_indicators`, no session holds it yet, so it weighs nothing.
    in_session = (starts_ns <= ts_ns).astype(np.float64)

    if weights is None:
        w = in_session
        # The empty minutes after bar i-1 enter the sums at bar i (when bar i shows they were empty),
        # carrying bar i-1's close; never across a session start.
        carry = np.zeros(n, dtype=np.float64)
        carry[1:] = empty_minutes_after(ts_ns)[:-1] * in_session[:-1] * in_session[1:]
        carry[first_of_segment] = 0.0
        d_close = np.zeros(n, dtype=np.float64)
        d_close[1:] = close[:-1] - reference[1:]
        s0_inc = w + carry
        s1_inc = d_tp + carry * d_close
        s2_inc = d_tp**2 + carry * d_close**2
    else:
        w = np.nan_to_num(np.asarray(weights, dtype=np.float64), nan=0.0) * in_session
        s0_inc, s1_inc, s2_inc = w, w * d_tp, w * d_tp**2

    s0 = _segmented_cumsum(s0_inc, first_of_segment)
    s1 = _segmented_cumsum(s1_inc, first_of_segment)
    s2 = _segmented_cumsum(s2_inc, first_of_segment)
    with np.errstate(invalid="ignore", divide="ignore"):
        has = s0 > 0
        mean_d = np.where(has, s1 / np.where(has, s0, 1.0), np.nan)
        variance = np.where(has, s2 / np.where(has, s0, 1.0) - mean_d**2, np.nan)
    sigma = np.sqrt(np.maximum(variance, 0.0))
    session_bars = _segmented_cumsum(in_session, first_of_segment).round().astype(np.int64)
    return BandSeries(mean=reference + mean_d, sigma=sigma, session_bars=session_bars)
