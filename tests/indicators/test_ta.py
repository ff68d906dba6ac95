"""EMA, RSI, ADX and ATR come from TA-Lib: `compute_indicators` hands it the right bars (its series equal
TA-Lib's over the same frame of real 6EH4 1-minute bars), and edge inputs behave as TA-Lib's do."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import talib

from fxhub.indicators import IndicatorConfig, compute_indicators, ta, warmup_bars

RTOL = 1e-9


def test_rsi_of_a_flat_series_is_zero() -> None:
    flat = ta.rsi(np.full(40, 1.1), 14)
    assert np.isnan(flat[:14]).all()
    assert (flat[14:] == 0.0).all()


def test_too_short_inputs_give_only_nan() -> None:
    close = np.linspace(1.1, 1.2, 10)
    assert np.isnan(ta.ema(close, 21)).all()
    assert np.isnan(ta.rsi(close, 14)).all()
    assert np.isnan(ta.atr(close + 0.001, close - 0.001, close, 14)).all()
    assert np.isnan(ta.adx(close + 0.001, close - 0.001, close, 14)).all()


@pytest.mark.parametrize("end", [3000, 15000, 29996])
def test_compute_indicators_series_equal_talib_on_the_same_frame(real_6eh4: pd.DataFrame, end: int) -> None:
    config = IndicatorConfig()
    window = 120
    frame = real_6eh4.iloc[end - window - warmup_bars(config) : end]
    result = compute_indicators(frame, real_volume=True, anchor="cme", config=config, window=window)
    h, lo, c = (frame[k].to_numpy() for k in ("high", "low", "close"))
    oracle = {
        "ema_9": talib.EMA(c, 9),
        "ema_21": talib.EMA(c, 21),
        "rsi": talib.RSI(c, 14),
        "adx": talib.ADX(h, lo, c, 14),
        "atr": talib.ATR(h, lo, c, 14),
    }
    for name, values in oracle.items():
        np.testing.assert_allclose(result["series"][name], values[-window:], rtol=RTOL, err_msg=name)
        assert result[name] == pytest.approx(values[-1], rel=RTOL), name
    assert len(result["series"]["timestamps"]) == window
    assert result["series"]["timestamps"][-1] == result["window_end"]


def test_columns_of_any_layout_or_dtype_are_accepted() -> None:
    bars = np.arange(200, dtype=np.int64).reshape(100, 2)[:, 0] + 1000  # ints, strided
    expected = talib.EMA(np.ascontiguousarray(bars, dtype=np.float64), timeperiod=9)
    np.testing.assert_array_equal(ta.ema(bars, 9), expected)  # type: ignore[arg-type]
