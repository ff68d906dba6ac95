"""EMA, RSI, ATR, ADX and the true range, computed by TA-Lib (its C library, bundled in the wheel).

The same definitions strategies and charting tools use: Wilder's smoothing for RSI, ATR and ADX, EMA
seeded with the SMA of its first `period` inputs. Outputs are float arrays as long as the input, NaN
before the first value (EMA at index n-1, RSI and ATR at n, ADX at 2n-1). TA-Lib's "unstable period"
settings are left at their defaults (0), so values depend only on the bars given: the fetcher's warm-up
(`fxhub.indicators.config.warmup_bars`) is what makes them independent of where the window starts.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import talib

__all__ = ["FloatArray", "adx", "atr", "ema", "rsi", "true_range"]

FloatArray = npt.NDArray[np.float64]


def _input(values: npt.ArrayLike) -> FloatArray:
    """TA-Lib takes contiguous float64 arrays only."""
    return np.ascontiguousarray(values, dtype=np.float64)


def _output(values: object) -> FloatArray:
    return np.asarray(values, dtype=np.float64)


def ema(values: FloatArray, period: int) -> FloatArray:
    """Exponential moving average, k = 2/(period+1)."""
    return _output(talib.EMA(_input(values), timeperiod=period))


def rsi(values: FloatArray, period: int) -> FloatArray:
    """Wilder's relative strength index, 0..100."""
    return _output(talib.RSI(_input(values), timeperiod=period))


def true_range(high: FloatArray, low: FloatArray, close: FloatArray) -> FloatArray:
    """max(H-L, |C₋₁-H|, |L-C₋₁|), NaN at index 0."""
    return _output(talib.TRANGE(_input(high), _input(low), _input(close)))


def atr(high: FloatArray, low: FloatArray, close: FloatArray, period: int) -> FloatArray:
    """Wilder's average true range."""
    return _output(talib.ATR(_input(high), _input(low), _input(close), timeperiod=period))


def adx(high: FloatArray, low: FloatArray, close: FloatArray, period: int) -> FloatArray:
    """Wilder's average directional index, 0..100."""
    return _output(talib.ADX(_input(high), _input(low), _input(close), timeperiod=period))
