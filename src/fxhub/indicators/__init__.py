"""Indicators on the chosen candles: session VWAP with bands, TWAP, EMA/RSI/ADX/ATR, volume, order flow.

Pure computation (numpy, pandas and TA-Lib, no I/O). EMA, RSI, ADX and ATR are computed by TA-Lib.
"""

from fxhub.indicators.compute import compute_indicators
from fxhub.indicators.config import IndicatorConfig, VpinMethod, warmup_bars
from fxhub.indicators.vwap import Anchor, session_anchor

__all__ = ["Anchor", "IndicatorConfig", "VpinMethod", "compute_indicators", "session_anchor", "warmup_bars"]
