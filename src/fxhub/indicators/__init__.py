"""Indicators on the chosen candles: session VWAP with bands, TWAP, EMA/RSI/ADX/ATR, volume, order flow.

Pure computation (numpy and pandas, no I/O). EMA, RSI, ADX and ATR equal TA-Lib on the same input.
"""

from fxhub.indicators.compute import compute_indicators
from fxhub.indicators.config import IndicatorConfig, VpinMethod, warmup_bars
from fxhub.indicators.vwap import Anchor, session_anchor

__all__ = ["Anchor", "IndicatorConfig", "VpinMethod", "compute_indicators", "session_anchor", "warmup_bars"]
