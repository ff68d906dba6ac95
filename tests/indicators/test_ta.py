"""EMA, RSI, ADX and ATR equal TA-Lib (the oracle) on the real 6EH4 1-minute bars."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import talib

from fxhub.indicators import IndicatorConfig, compute_indicators, ta, warmup_bars

RTOL = 1e-9


def _assert_same(mine: np.ndarray, oracle: np.ndarray) -> None:
    assert np.array_equal(np.isnan(mine), np.isnan(oracle)), "first valid index differs from TA-Lib"
    valid = ~np.isnan(oracle)
    assert valid.sum() > 1000
    np.testing.assert_allclose(mine[valid], oracle[valid], rtol=RTOL, atol=1e-12)


@pytest.mark.parametrize("period", [9, 21, 50])
def test_ema_equals_talib_on_real_6eh4(real_6eh4: pd.DataFrame, period: int) -> None:
    close = real_6eh4["close"].to_numpy()
    _assert_same(ta.ema(close, period), talib.EMA(close, timeperiod=period))


@pytest.mark.parametrize("period", [14, 7])
def test_rsi_equals_talib_on_real_6eh4(real_6eh4: pd.DataFrame, period: int) -> None:
    close = real_6eh4["close"].to_numpy()
    _assert_same(ta.rsi(close, period), talib.RSI(close, timeperiod=period))


@pytest.mark.parametrize("period", [14, 5])
def test_atr_equals_talib_on_real_6eh4(real_6eh4: pd.DataFrame, period: int) -> None:
    h, lo, c = (real_6eh4[k].to_numpy() for k in ("high", "low", "close"))
    _assert_same(ta.atr(h, lo, c, period), talib.ATR(h, lo, c, timeperiod=period))


@pytest.mark.parametrize("period", [14, 20])
def test_adx_equals_talib_on_real_6eh4(real_6eh4: pd.DataFrame, period: int) -> None:
    h, lo, c = (real_6eh4[k].to_numpy() for k in ("high", "low", "close"))
    _assert_same(ta.adx(h, lo, c, period), talib.ADX(h, lo, c, timeperiod=period))


def test_true_range_equals_talib_trange(real_6eh4: pd.DataFrame) -> None:
    h, lo, c = (real_6eh4[k].to_numpy() for k in ("high", "low", "close"))
    _assert_same(ta.true_range(h, lo, c), talib.TRANGE(h, lo, c))


def test_rsi_of_a_flat_series_is_zero_as_in_talib() -> None:
    close = np.full(40, 1.1)
    _assert_flat = ta.rsi(close, 14)
    np.testing.assert_array_equal(_assert_flat[14:], talib.RSI(close, timeperiod=14)[14:])
    assert _assert_flat[-1] == 0.0


def test_too_short_inputs_give_only_nan_like_talib() -> None:
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
