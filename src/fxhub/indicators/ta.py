"""EMA, RSI, ATR and ADX exactly as TA-Lib computes them, in numpy and plain Python.

TA-Lib is the reference (the tests compare against `talib` to 1e-9). The recursions below follow its C
code operation by operation, so results agree to the last bit or so on the same input:

- EMA: k = 2/(n+1), seeded with the SMA of the first n inputs; first output at index n-1.
- RSI: Wilder averages of gains and losses, seeded with their plain means over the first n changes;
  first output at index n; 0 when both averages are (TA-Lib's) zero, i.e. below 1e-8.
- ATR: Wilder average of the true range, seeded with the SMA of the first n true ranges (from index 1);
  first output at index n.
- ADX: Wilder sums of +DM, -DM and true range, DX = 100·|DI+ − DI−|/(DI+ + DI−), ADX seeded with the mean
  of the first n DX values and Wilder-smoothed after; first output at index 2n-1.

Outputs are float arrays as long as the input with NaN before the first value. The recursions are
sequential by nature; a Python loop over a few thousand bars costs well under a millisecond per bar.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = ["FloatArray", "adx", "atr", "ema", "rsi", "true_range"]

FloatArray = npt.NDArray[np.float64]

# TA-Lib's TA_IS_ZERO: |v| < 1e-8 counts as zero.
_TA_ZERO: Final = 1e-8


def _is_zero(value: float) -> bool:
    return -_TA_ZERO < value < _TA_ZERO


def _empty(length: int) -> FloatArray:
    return np.full(length, np.nan, dtype=np.float64)


def ema(values: FloatArray, period: int) -> FloatArray:
    """TA-Lib EMA."""
    x = values.tolist()
    out = _empty(len(x))
    if len(x) < period:
        return out
    k = 2.0 / (period + 1)
    total = 0.0
    for v in x[:period]:
        total += v
    prev = total / period
    result = [prev]
    for v in x[period:]:
        prev = (v - prev) * k + prev
        result.append(prev)
    out[period - 1 :] = result
    return out


def rsi(values: FloatArray, period: int) -> FloatArray:
    """TA-Lib RSI (Wilder)."""
    x = values.tolist()
    out = _empty(len(x))
    if len(x) <= period:
        return out
    gain = loss = 0.0
    prev_value = x[0]
    for v in x[1 : period + 1]:
        change = v - prev_value
        prev_value = v
        if change < 0:
            loss -= change
        else:
            gain += change
    loss /= period
    gain /= period
    total = gain + loss
    result = [0.0 if _is_zero(total) else 100.0 * (gain / total)]
    for v in x[period + 1 :]:
        change = v - prev_value
        prev_value = v
        loss *= period - 1
        gain *= period - 1
        if change < 0:
            loss -= change
        else:
            gain += change
        loss /= period
        gain /= period
        total = gain + loss
        result.append(0.0 if _is_zero(total) else 100.0 * (gain / total))
    out[period:] = result
    return out


def true_range(high: FloatArray, low: FloatArray, close: FloatArray) -> FloatArray:
    """TA-Lib TRANGE: max(H-L, |C₋₁-H|, |L-C₋₁|), NaN at index 0."""
    out = _empty(len(high))
    if len(high) > 1:
        prev_close = close[:-1]
        h, lo = high[1:], low[1:]
        out[1:] = np.maximum(np.maximum(h - lo, np.abs(prev_close - h)), np.abs(lo - prev_close))
    return out


def atr(high: FloatArray, low: FloatArray, close: FloatArray, period: int) -> FloatArray:
    """TA-Lib ATR (Wilder)."""
    tr = true_range(high, low, close).tolist()
    out = _empty(len(tr))
    if len(tr) <= period:
        return out
    total = 0.0
    for v in tr[1 : period + 1]:
        total += v
    prev = total / period
    result = [prev]
    for v in tr[period + 1 :]:
        prev *= period - 1
        prev += v
        prev /= period
        result.append(prev)
    out[period:] = result
    return out


def adx(high: FloatArray, low: FloatArray, close: FloatArray, period: int) -> FloatArray:
    """TA-Lib ADX (Wilder)."""
    h: list[float] = high.tolist()
    lo: list[float] = low.tolist()
    c: list[float] = close.tolist()
    out = _empty(len(h))
    if len(h) < 2 * period:
        return out
    n = period
    minus_dm = plus_dm = tr_sum = sum_dx = 0.0
    prev_high, prev_low, prev_close = h[0], lo[0], c[0]
    prev_adx = 0.0
    result: list[float] = []
    # One flat loop (no helper calls: this runs once per bar): bars 1..n-1 only sum the true range,
    # bars n..2n-1 also sum DX for the seed, and from bar 2n-1 on each bar smooths and emits ADX.
    for today in range(1, len(h)):
        if today >= n:
            minus_dm -= minus_dm / n
            plus_dm -= plus_dm / n
        diff_p = h[today] - prev_high
        prev_high = h[today]
        diff_m = prev_low - lo[today]
        prev_low = lo[today]
        if diff_m > 0 and diff_p < diff_m:
            minus_dm += diff_m
        elif diff_p > 0 and diff_p > diff_m:
            plus_dm += diff_p
        tr = prev_high - prev_low
        t2 = abs(prev_high - prev_close)
        if t2 > tr:
            tr = t2
        t2 = abs(prev_low - prev_close)
        if t2 > tr:
            tr = t2
        prev_close = c[today]
        if today < n:
            tr_sum += tr
            continue
        tr_sum = tr_sum - (tr_sum / n) + tr
        # DX; None in TA-Lib's terms (skipped) when the true range or the DI sum is zero.
        value: float | None = None
        if not -_TA_ZERO < tr_sum < _TA_ZERO:  # _is_zero, inlined
            minus_di = 100.0 * (minus_dm / tr_sum)
            plus_di = 100.0 * (plus_dm / tr_sum)
            total = minus_di + plus_di
            if not -_TA_ZERO < total < _TA_ZERO:
                value = 100.0 * (abs(minus_di - plus_di) / total)
        if today < 2 * n:
            if value is not None:
                sum_dx += value
            if today == 2 * n - 1:
                prev_adx = sum_dx / n
                result.append(prev_adx)
            continue
        if value is not None:
            prev_adx = ((prev_adx * (n - 1)) + value) / n
        result.append(prev_adx)
    out[2 * n - 1 :] = result
    return out
