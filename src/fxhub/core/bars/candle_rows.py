"""A `MinuteTable`'s rows as candle fields, checked column-wise so that valid rows skip per-candle checks.

`Candle(...)` checks every field of every candle, which costs more than all the numpy work of the
minute behind it. The figures come from vendor data, so they must still be checked: here the
constructor's rules are applied to whole columns at once, and only a row that passes every rule may be
built with `Candle._trusted`. A row that fails goes through the validating constructor, which raises
the same `ValidationError` it always did.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from fxhub.core.bars.minutes import MinuteTable
from fxhub.core.bars.spec import NS_PER_MINUTE
from fxhub.model.candle import _LATEST, _VOLUME_SLACK

__all__ = ["CHECKED_MIN_ROWS", "CandleRows", "minute_in_range"]

Floats = npt.NDArray[np.float64]
Flags = npt.NDArray[np.bool_]

_LATEST_NS: Final = int(_LATEST.timestamp()) * 1_000_000_000
# The column checks cost about what `Candle`'s own checks of two candles do: a smaller table (a live
# minute, one row) goes through the validating constructor.
CHECKED_MIN_ROWS: Final = 3


def minute_in_range(minute_ns: int) -> bool:
    """Whether a minute start (ns) makes a valid `Candle.timestamp`: in the years 1970 to 2199."""
    return 0 <= minute_ns < _LATEST_NS


@dataclass(frozen=True, slots=True)
class CandleRows:
    """Per row: the minute, both OHLC candidates, the candle's volume and extras, and whether a candle
    with the trade (or mid) OHLC passes every check of `Candle`."""

    minute: list[int]
    trade_ohlc: list[list[float]]
    mid_ohlc: list[list[float]]
    fields: list[dict[str, object]]  # volume and the extras, as `Candle` keyword arguments
    trade_ok: list[bool]
    mid_ok: list[bool]

    @classmethod
    def of(cls, table: MinuteTable, pip_size: float) -> CandleRows:
        volume = table.volume
        with np.errstate(invalid="ignore", divide="ignore"):
            vwap = table.pv / volume
        avg_spread, max_spread = table.spread_mean / pip_size, table.spread_max / pip_size
        fields = [
            {
                "volume": v,
                "trade_count": trades,
                "buy_volume": buy,
                "sell_volume": sell,
                "quote_count": quotes,
                "vwap": w if v > 0 else None,
                "avg_spread_pips": _finite_or_none(avg),
                "max_spread_pips": _finite_or_none(high),
                "ofi": _finite_or_none(ofi),
                "ofi_multi": _finite_or_none(ofi_multi),
            }
            for v, trades, buy, sell, quotes, w, avg, high, ofi, ofi_multi in zip(
                volume.tolist(),
                table.trade_count.tolist(),
                table.buy_volume.tolist(),
                table.sell_volume.tolist(),
                table.book_updates.tolist(),
                vwap.tolist(),
                avg_spread.tolist(),
                max_spread.tolist(),
                table.ofi.tolist(),
                table.ofi_multi.tolist(),
                strict=True,
            )
        ]
        minute = table.minute
        if len(minute) < CHECKED_MIN_ROWS:
            unchecked = [False] * len(minute)
            return cls(
                minute.tolist(),
                table.trade_ohlc.tolist(),
                table.mid_ohlc.tolist(),
                fields,
                unchecked,
                unchecked,
            )
        common = (
            (minute % NS_PER_MINUTE == 0)
            & (minute >= 0)
            & (minute < _LATEST_NS)
            & _extras_ok(table, vwap, avg_spread, max_spread)
        )
        return cls(
            minute.tolist(),
            table.trade_ohlc.tolist(),
            table.mid_ohlc.tolist(),
            fields,
            (common & _ohlc_ok(table.trade_ohlc)).tolist(),
            (common & _ohlc_ok(table.mid_ohlc)).tolist(),
        )


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _ohlc_ok(ohlc: Floats) -> Flags:
    """Finite positive prices, high ≥ low, open and close within [low, high] (NaN fails every test)."""
    open_, high, low, close = ohlc.T
    with np.errstate(invalid="ignore"):
        ok: Flags = (
            np.isfinite(ohlc).all(axis=1)
            & (low > 0)
            & (high >= low)
            & (low <= open_)
            & (open_ <= high)
            & (low <= close)
            & (close <= high)
        )
    return ok


def _extras_ok(table: MinuteTable, vwap: Floats, avg: Floats, high: Floats) -> Flags:
    """Volumes finite and ≥ 0 with buy + sell ≤ volume; a positive VWAP; spreads ≥ 0 with avg ≤ max.
    Counts come from `bincount` and OFI figures are passed on only when finite: they always pass."""
    volume, buy, sell = table.volume, table.buy_volume, table.sell_volume
    has_vwap = volume > 0
    avg_known, high_known = np.isfinite(avg), np.isfinite(high)
    with np.errstate(invalid="ignore"):
        return (
            np.isfinite(volume)
            & (volume >= 0)
            & np.isfinite(buy)
            & (buy >= 0)
            & np.isfinite(sell)
            & (sell >= 0)
            & (buy + sell <= volume * (1 + _VOLUME_SLACK) + _VOLUME_SLACK)
            & (~has_vwap | (np.isfinite(vwap) & (vwap > 0)))
            & (~avg_known | (avg >= 0))
            & (~high_known | (high >= 0))
            & (~(avg_known & high_known) | (avg <= high * (1 + _VOLUME_SLACK)))
        )
