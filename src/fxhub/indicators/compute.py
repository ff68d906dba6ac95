"""All indicators of one instrument's chosen candles, as one JSON-ready dict.

`compute_indicators` is pure: a DataFrame in, plain floats, strings, bools, lists and None out.
The frame holds warm-up bars before the window (see `warmup_bars`) and, for session VWAP, every bar since
the session anchor. Keys are listed in `compute_indicators`' docstring.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from fxhub.errors import ValidationError
from fxhub.indicators import orderflow, ta
from fxhub.indicators.config import IndicatorConfig, warmup_bars
from fxhub.indicators.ta import FloatArray
from fxhub.indicators.volume import volume_spike
from fxhub.indicators.vwap import (
    Anchor,
    WeightedStats,
    minute_stats,
    session_anchor,
    typical_price,
    volume_stats,
)

__all__ = ["compute_indicators"]

_WHERE: Final = "compute_indicators"
_REQUIRED: Final = ("open", "high", "low", "close", "volume")
_NS_PER_MINUTE: Final = 60_000_000_000


def _iso(t: datetime | pd.Timestamp) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _num(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def _series(values: FloatArray) -> list[float | None]:
    return [None if math.isnan(v) else v for v in values.tolist()]


def _column(frame: pd.DataFrame, name: str) -> FloatArray:
    return frame[name].to_numpy(dtype=np.float64, na_value=np.nan)


def _minute_starts(index: pd.DatetimeIndex) -> bool:
    """Whether every time of `index` falls on a whole minute of its own zone's clock."""
    if index.tz is UTC or str(index.tz) == "UTC":  # UTC clock: a whole minute since the epoch
        return not (index.as_unit("ns").asi8 % _NS_PER_MINUTE).any()
    return not ((index.second != 0).any() or (index.microsecond != 0).any() or (index.nanosecond != 0).any())


def _validate(frame: object, real_volume: object, anchor: object, window: object) -> pd.DatetimeIndex:
    if not isinstance(frame, pd.DataFrame):
        raise ValidationError("frame", type(frame).__name__, "must be a pandas DataFrame", where=_WHERE)
    index = frame.index
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
        rule = "must be a timezone-aware (UTC) DatetimeIndex of minute starts"
        raise ValidationError("frame.index", type(index).__name__, rule, where=_WHERE)
    if len(index) == 0:
        raise ValidationError("frame", "0 rows", "must hold at least one bar", where=_WHERE)
    if not index.is_monotonic_increasing or not index.is_unique:
        raise ValidationError(
            "frame.index", "unsorted", "must increase strictly (one row per minute)", where=_WHERE
        )
    if not _minute_starts(index):
        raise ValidationError("frame.index", "not minute starts", "must hold minute starts", where=_WHERE)
    missing = [name for name in _REQUIRED if name not in frame.columns]
    if missing:
        rule = f"must have columns {', '.join(_REQUIRED)}; missing {', '.join(missing)}"
        raise ValidationError("frame.columns", list(frame.columns), rule, where=_WHERE)
    for name in _REQUIRED:
        if not np.isfinite(_column(frame, name)).all():
            raise ValidationError(f"frame.{name}", "NaN or inf", "must be finite in every row", where=_WHERE)
    if not isinstance(real_volume, bool):
        raise ValidationError("real_volume", real_volume, "must be True or False", where=_WHERE)
    if anchor not in ("fx", "cme"):
        rule = "must be 'fx' (spot day from 17:00 New York) or 'cme' (17:00 Chicago)"
        raise ValidationError("anchor", anchor, rule, where=_WHERE)
    if isinstance(window, bool) or not isinstance(window, int) or not 1 <= window <= len(index):
        raise ValidationError(
            "window", window, f"must be a whole number from 1 to {len(index)}", where=_WHERE
        )
    return index.tz_convert(UTC)


def _vwap_block(stats: WeightedStats | None, twap: WeightedStats | None) -> dict[str, Any]:
    if stats is None:
        keys = ("vwap", "vwap_sigma", "vwap_upper_1", "vwap_lower_1", "vwap_upper_2", "vwap_lower_2")
        return dict.fromkeys(keys) | {"twap": twap.mean if twap else None}
    m, s = stats.mean, stats.sigma
    return {
        "vwap": m,
        "vwap_sigma": s,
        "vwap_upper_1": m + s,
        "vwap_lower_1": m - s,
        "vwap_upper_2": m + 2 * s,
        "vwap_lower_2": m - 2 * s,
        "twap": twap.mean if twap else None,
    }


def _weighted_stats(
    tp: FloatArray, close: FloatArray, volume: FloatArray, ts_ns: npt.NDArray[np.int64], real_volume: bool
) -> WeightedStats | None:
    if real_volume:
        return volume_stats(tp, volume)
    return minute_stats(tp, close, ts_ns)


def _order_flow(
    frame: pd.DataFrame, session: slice, window: int, real_volume: bool, config: IndicatorConfig
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "cumulative_delta": None,
        "cumulative_delta_window": None,
        "ofi_last": None,
        "ofi_window": None,
        "vpin": None,
    }
    if not real_volume:
        return out
    has_sides = {"buy_volume", "sell_volume"} <= set(frame.columns)
    if has_sides:
        buy, sell = _column(frame, "buy_volume"), _column(frame, "sell_volume")
        out["cumulative_delta"] = orderflow.cumulative_delta(buy[session], sell[session])
        out["cumulative_delta_window"] = orderflow.cumulative_delta(buy[-window:], sell[-window:])
    if "ofi" in frame.columns:
        ofi = _column(frame, "ofi")
        out["ofi_last"] = _num(float(ofi[-1]))
        known = ofi[-window:][~np.isnan(ofi[-window:])]
        out["ofi_window"] = float(known.sum()) if len(known) else None
    if config.vpin_method == "bvc":
        v_buy, v_sell = orderflow.bvc_split(_column(frame, "volume"), _column(frame, "close"))
    elif has_sides:
        v_buy, v_sell = np.nan_to_num(buy), np.nan_to_num(sell)
    else:
        return out
    bucket = config.vpin_bucket_volume or orderflow.estimate_bucket_volume(
        v_buy + v_sell, config.vpin_trading_minutes_per_day, config.vpin_buckets_per_day
    )
    result = orderflow.vpin(v_buy, v_sell, bucket_volume=bucket, window_buckets=config.vpin_window_buckets)
    out["vpin"] = {
        "value": result.value,
        "bucket_size": result.bucket_volume,
        "bucket_size_source": "config" if config.vpin_bucket_volume else "estimated",
        "buckets": result.buckets,
        "window_buckets": config.vpin_window_buckets,
        "method": config.vpin_method,
    }
    return out


def compute_indicators(
    frame: pd.DataFrame,
    *,
    real_volume: bool,
    anchor: Anchor,
    config: IndicatorConfig,
    window: int,
) -> dict[str, Any]:
    """Indicators at the last bar of `frame`, plus their series over the last `window` bars.

    `frame`: UTC DatetimeIndex of minute starts (strictly increasing, gaps allowed), columns
    open/high/low/close/volume and optionally buy_volume, sell_volume, ofi (NaN = unknown). The rows
    before the last `window` are warm-up. `real_volume`: the volume is traded contracts (CME); False for
    tick counts, which are then used for nothing but the (not meaningful) volume spike.
    `anchor`: "fx" (spot day, 17:00 New York) or "cme" (17:00 Chicago), taken at the last bar.

    Keys: vwap, vwap_sigma, vwap_upper_1/2, vwap_lower_1/2, vwap_anchor, vwap_complete, vwap_type,
    vwap_weighting, rolling_vwap, rolling_vwap_sigma, twap, ema_<n> per period, rsi, adx, atr,
    volume_spike {ratio, zscore, meaningful, baseline_mean, baseline_bars}, cumulative_delta,
    cumulative_delta_window, ofi_last, ofi_window, vpin {value, bucket_size, bucket_size_source, buckets,
    window_buckets, method} (order flow None without real volume or the columns), periods, window,
    window_start, window_end, warmup_bars_required, warmup_bars_available, warmup_complete,
    series {timestamps, ema_<n>, rsi, adx, atr}.
    """
    index = _validate(frame, real_volume, anchor, window)
    high, low, close = _column(frame, "high"), _column(frame, "low"), _column(frame, "close")
    volume = _column(frame, "volume")
    ts_ns = index.as_unit("ns").asi8  # pandas 3 defaults to microseconds
    tp = typical_price(high, low, close)

    last = index[-1].to_pydatetime()
    start = session_anchor(last, anchor)
    first_in_session = int(np.searchsorted(ts_ns, pd.Timestamp(start).value, side="left"))
    session = slice(first_in_session, len(index))
    s_tp, s_close, s_vol, s_ts = tp[session], close[session], volume[session], ts_ns[session]
    twap = minute_stats(s_tp, s_close, s_ts)
    out: dict[str, Any] = _vwap_block(_weighted_stats(s_tp, s_close, s_vol, s_ts, real_volume), twap)
    out["vwap_anchor"] = _iso(start)
    out["vwap_complete"] = bool(index[0] <= pd.Timestamp(start))
    out["vwap_type"] = "true_vwap" if real_volume else "twap"
    out["vwap_weighting"] = "real volume" if real_volume else "equal per minute"
    w = slice(len(index) - window, len(index))
    rolling = _weighted_stats(tp[w], close[w], volume[w], ts_ns[w], real_volume)
    out["rolling_vwap"] = rolling.mean if rolling else None
    out["rolling_vwap_sigma"] = rolling.sigma if rolling else None

    series: dict[str, Any] = {"timestamps": [_iso(t) for t in index[w]]}
    for n in config.ema_periods:
        values = ta.ema(close, n)
        out[f"ema_{n}"] = _num(values[-1])
        series[f"ema_{n}"] = _series(values[w])
    for name, values in (
        ("rsi", ta.rsi(close, config.rsi_period)),
        ("adx", ta.adx(high, low, close, config.adx_period)),
        ("atr", ta.atr(high, low, close, config.atr_period)),
    ):
        out[name] = _num(values[-1])
        series[name] = _series(values[w])

    spike = volume_spike(volume, config.spike_baseline_bars)
    out["volume_spike"] = {
        "ratio": spike.ratio,
        "zscore": spike.zscore,
        "meaningful": real_volume,
        "baseline_mean": spike.baseline_mean,
        "baseline_bars": spike.baseline_bars,
    }
    out |= _order_flow(frame, session, window, real_volume, config)

    required = warmup_bars(config)
    available = len(index) - window
    out["periods"] = {
        "ema": list(config.ema_periods),
        "rsi": config.rsi_period,
        "adx": config.adx_period,
        "atr": config.atr_period,
        "spike_baseline_bars": config.spike_baseline_bars,
    }
    out["window"] = window
    out["window_start"] = _iso(index[w][0])
    out["window_end"] = _iso(index[-1])
    out["warmup_bars_required"] = required
    out["warmup_bars_available"] = available
    out["warmup_complete"] = available >= required
    out["series"] = series
    return out
