"""IndicatorConfig validation and the warm-up rule: values do not depend on where the input starts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fxhub.errors import ValidationError
from fxhub.indicators import IndicatorConfig, compute_indicators, warmup_bars

RECURSIVE = ("ema_9", "ema_21", "rsi", "adx", "atr")


def test_default_warmup_is_decided_by_adx() -> None:
    # ADX 14: (m+1)·(13/14)^m ≤ 1e-10 at m = 392, plus TA-Lib's lookback 2·14−1 = 27.
    assert warmup_bars(IndicatorConfig()) == 419


def test_warmup_grows_with_periods_and_tighter_tolerance() -> None:
    base = warmup_bars(IndicatorConfig())
    assert warmup_bars(IndicatorConfig(adx_period=28)) > base
    assert warmup_bars(IndicatorConfig(warmup_tolerance=1e-14)) > base
    assert warmup_bars(IndicatorConfig(ema_periods=(200,))) > base
    assert warmup_bars(IndicatorConfig(spike_baseline_bars=5000)) == 5000


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("ema_periods", ()),
        ("ema_periods", [9, 21]),
        ("ema_periods", (9, 9)),
        ("ema_periods", (1,)),
        ("rsi_period", 1),
        ("adx_period", True),
        ("atr_period", 14.0),
        ("spike_baseline_bars", 0),
        ("vpin_method", "tick"),
        ("vpin_window_buckets", 0),
        ("vpin_bucket_volume", -5.0),
        ("vpin_bucket_volume", float("nan")),
        ("warmup_tolerance", 0.0),
        ("warmup_tolerance", 1),
    ],
)
def test_config_rejects_bad_values_naming_the_field(field: str, value: object) -> None:
    with pytest.raises(ValidationError, match=field):
        IndicatorConfig(**{field: value})  # type: ignore[arg-type]


def test_config_rejects_unknown_fields() -> None:
    with pytest.raises(TypeError):
        IndicatorConfig(ema_period=9)  # type: ignore[call-arg]


def _last_values(frame: pd.DataFrame, config: IndicatorConfig) -> dict[str, float]:
    result = compute_indicators(frame, real_volume=True, anchor="cme", config=config, window=60)
    return {name: result[name] for name in RECURSIVE}


@pytest.mark.parametrize("end", [2500, 9000, 17777, 29997])
def test_values_with_warmup_equal_values_from_a_much_longer_history(
    real_6eh4: pd.DataFrame, end: int
) -> None:
    config = IndicatorConfig()
    need = warmup_bars(config) + 60
    short = _last_values(real_6eh4.iloc[end - need : end], config)
    long = _last_values(real_6eh4.iloc[max(0, end - need - 2000) : end], config)
    for name in RECURSIVE:
        # EMA and ATR are prices: 1e-9 relative; RSI and ADX live on 0..100: 1e-9 of that scale.
        assert short[name] == pytest.approx(long[name], rel=1e-9, abs=1e-7), name


def test_too_little_warmup_is_visible_in_the_values(real_6eh4: pd.DataFrame) -> None:
    """The property test above has teeth: 40 bars of warm-up change ADX and RSI measurably."""
    config = IndicatorConfig()
    short = _last_values(real_6eh4.iloc[9000 - 100 : 9000], config)
    long = _last_values(real_6eh4.iloc[9000 - 3000 : 9000], config)
    assert abs(short["adx"] - long["adx"]) > 1e-4 or abs(short["rsi"] - long["rsi"]) > 1e-4


def test_result_reports_whether_warmup_was_enough(real_6eh4: pd.DataFrame) -> None:
    config = IndicatorConfig()
    need = warmup_bars(config)
    full = compute_indicators(
        real_6eh4.iloc[: need + 60], real_volume=True, anchor="cme", config=config, window=60
    )
    assert full["warmup_complete"] is True
    assert full["warmup_bars_required"] == need == full["warmup_bars_available"]
    short = compute_indicators(real_6eh4.iloc[:100], real_volume=True, anchor="cme", config=config, window=60)
    assert short["warmup_complete"] is False
    assert short["warmup_bars_available"] == 40
    assert np.isfinite(short["ema_9"])
