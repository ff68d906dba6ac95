"""The bars an A/B test runs on, and the two VWAP weightings it compares.

Two ways in:

- `load_bar_file`: a CSV (gzip when the name ends in .gz) of CME 1-minute bars with columns
  `timestamp` or `timestamp_utc`, `open`, `high`, `low`, `close`, `volume` (traded contracts).
  Times without a zone are read as UTC. fxhub labels a bar with its open time; files that label it with
  its close time (NautilusTrader's convention, as the 6EH4 test file does: bars stamped 23:01 to 22:00
  UTC, one at every 16:00 Chicago close and none at the 17:00 open) are shifted back one minute.
  `label="auto"` decides by the CME calendar: close-labelled when some bars sit at instants the market
  is closed and none do once shifted. Prices stay futures prices (turned into the pair's quoting, which
  only changes 6J). Variant A weights by the real volume; B gives every minute the same weight (TWAP),
  since such a file has no tick counts. Sessions are CME days (17:00 Chicago).
- `load_from_hub`: the hub's DATABENTO and IG candles of the period. With both, the prices traded are
  IG's spot prices (what a spot scalper trades); variant A weights them by CME's real volume of the same
  minute (0 where CME has no bar), B by IG's quote count (a tick-weighted VWAP); sessions are FX days
  (17:00 New York). With DATABENTO alone: futures prices, A true VWAP, B TWAP, CME days.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final, Literal, Protocol

import numpy as np
import numpy.typing as npt
import pandas as pd

from fxhub.abtest.bands import session_starts
from fxhub.errors import DataFormatError, FxhubError, ValidationError
from fxhub.fetcher.frames import candles_frame
from fxhub.indicators.ta import FloatArray
from fxhub.indicators.vwap import Anchor
from fxhub.instruments import get_instrument
from fxhub.model import Candle, PriceBasis, Source, VolumeType

__all__ = ["BarLabel", "MarketBars", "NoABDataError", "Variant", "load_bar_file", "load_from_hub"]

VariantLabel = Literal["true_vwap", "tick_vwap", "twap"]
BarLabel = Literal["auto", "open", "close"]
_TIME_COLUMNS: Final = ("timestamp", "timestamp_utc")
_COLUMNS: Final = ("open", "high", "low", "close", "volume")
_NS_PER_MINUTE: Final = 60_000_000_000
HUB_LABEL: Final = "open (the hub's candles)"


class NoABDataError(FxhubError):
    """The hub has no candles to run an A/B test on for the pair and period."""


class CandleRangeReader(Protocol):
    """What `load_from_hub` needs from a hub client (`HubClient` has it)."""

    def get_candles(
        self, pair: str, start: datetime, end: datetime, source: Source | str | None = None
    ) -> list[Candle]: ...


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Variant:
    """One arm of the test: how the VWAP under the strategy is weighted."""

    name: Literal["A", "B"]
    label: VariantLabel
    weighting: str  # in words, for reports
    weights: FloatArray | None  # per bar; None = one per minute (TWAP)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class MarketBars:
    """The candles both variants trade, with their frame, sessions and the two weightings."""

    pair: str
    pip_size: float
    frame: pd.DataFrame  # UTC minute-start index; open, high, low, close, volume
    candles: tuple[Candle, ...]
    anchor: Anchor
    price_basis: Literal["futures", "spot"]
    origin: str
    time_label: str  # how the source stamped its bars, in words
    variants: tuple[Variant, Variant]
    real_volume_coverage: float  # share of the bars that carry real volume


def _file_error(path: Path, what: str, fix: str) -> DataFormatError:
    return DataFormatError(f"{path}: {what}. {fix}")


def _read_frame(path: Path) -> pd.DataFrame:
    wanted = "columns timestamp (or timestamp_utc), open, high, low, close, volume"
    try:
        raw = pd.read_csv(path)
    except FileNotFoundError:
        raise _file_error(path, "no such file", "Give the path of a CSV of 1-minute bars") from None
    except (OSError, ValueError, EOFError) as exc:
        raise _file_error(path, f"expected a CSV of 1-minute bars, was unreadable ({exc})", "") from exc
    time_column = next((name for name in _TIME_COLUMNS if name in raw.columns), None)
    missing = [name for name in _COLUMNS if name not in raw.columns]
    if time_column is None or missing:
        raise _file_error(path, f"expected {wanted}, was {list(raw.columns)}", "Rename or add the columns")
    try:
        index = pd.DatetimeIndex(pd.to_datetime(raw[time_column], utc=True), name="timestamp")
        values = raw[list(_COLUMNS)].astype("float64")
    except (ValueError, TypeError) as exc:
        raise _file_error(path, f"expected ISO times and numbers, was unparseable ({exc})", "") from exc
    frame = values.set_axis(index, axis=0)
    _check_frame(path, frame)
    return frame


def _check_frame(path: Path, frame: pd.DataFrame) -> None:
    index = pd.DatetimeIndex(frame.index)
    if len(index) == 0:
        raise _file_error(path, "expected at least one bar, was empty", "Give a file with bars")
    ts = index.as_unit("ns").asi8
    if (ts % _NS_PER_MINUTE != 0).any():
        bad = index[ts % _NS_PER_MINUTE != 0][0]
        raise _file_error(path, f"expected minute starts, was {bad}", "Give 1-minute bars")
    if (np.diff(ts) <= 0).any():
        at = index[1:][np.diff(ts) <= 0][0]
        raise _file_error(
            path, f"expected strictly increasing times, was a repeat or step back at {at}", "Sort it"
        )
    values = frame.to_numpy(dtype=np.float64)
    if not np.isfinite(values).all():
        raise _file_error(path, "expected numbers in every row, was NaN or empty", "Fill or drop the rows")
    o, h, low, c, v = values.T
    rows = (low <= 0) | (h < low) | (o < low) | (o > h) | (c < low) | (c > h) | (v < 0)
    if rows.any():
        at = index[rows][0]
        what = f"expected 0 < low ≤ open, close ≤ high and volume ≥ 0, was broken at {at}"
        raise _file_error(path, what, "Fix the bar")


def _file_candles(pair: str, frame: pd.DataFrame) -> tuple[Candle, ...]:
    return tuple(
        Candle(
            symbol=pair,
            timestamp=t,
            open=o,
            high=h,
            low=low,
            close=c,
            volume=v,
            source=Source.DATABENTO,
            volume_type=VolumeType.REAL,
            price_basis=PriceBasis.FUTURES,
        )
        for t, o, h, low, c, v in zip(
            pd.DatetimeIndex(frame.index).to_pydatetime(),
            *(frame[name].tolist() for name in _COLUMNS),
            strict=True,
        )
    )


def _futures_bars(
    pair: str,
    frame: pd.DataFrame,
    candles: tuple[Candle, ...],
    origin: str,
    why_twap: str,
    time_label: str,
) -> MarketBars:
    """Futures prices on CME sessions: A weights by their real volume, B equally per minute."""
    volume = frame["volume"].to_numpy(dtype=np.float64)
    return MarketBars(
        pair=pair,
        pip_size=get_instrument(pair).pip_size,
        frame=frame,
        candles=candles,
        anchor="cme",
        price_basis="futures",
        origin=origin,
        time_label=time_label,
        variants=(
            Variant(name="A", label="true_vwap", weighting="real volume (CME contracts)", weights=volume),
            Variant(name="B", label="twap", weighting=f"equal per minute ({why_twap})", weights=None),
        ),
        real_volume_coverage=float((volume > 0).mean()),
    )


def _closed_bars(ts_ns: npt.NDArray[np.int64]) -> int:
    return int((session_starts(ts_ns, "cme") > ts_ns).sum())


def _to_open_labels(frame: pd.DataFrame, label: BarLabel) -> tuple[pd.DataFrame, str]:
    ts = pd.DatetimeIndex(frame.index).as_unit("ns").asi8
    if label == "auto":
        closed, closed_shifted = _closed_bars(ts), _closed_bars(ts - _NS_PER_MINUTE)
        label = "close" if closed and not closed_shifted else "open"
        how = f"detected: {closed} bar(s) at CME closed instants as stamped, {closed_shifted} shifted"
    elif label not in ("open", "close"):
        raise ValidationError("label", label, "must be 'auto', 'open' or 'close'", where="load_bar_file")
    else:
        how = "as told"
    if label == "open":
        return frame, f"open ({how})"
    shifted = frame.set_axis(pd.DatetimeIndex(frame.index) - pd.Timedelta(minutes=1), axis=0)
    return shifted, f"close, shifted back one minute to the open ({how})"


def load_bar_file(path: Path, pair: str = "EUR_USD", label: BarLabel = "auto") -> MarketBars:
    """CME 1-minute bars of `pair`'s future from a CSV: true VWAP (A) against TWAP (B).

    `label`: whether the file stamps a bar with its open or its close time; "auto" decides (see above).
    """
    instrument = get_instrument(pair)
    frame, time_label = _to_open_labels(_read_frame(path), label)
    quoted = [
        instrument.spot_ohlc_from_futures(o, h, low, c)
        for o, h, low, c in zip(*(frame[name].tolist() for name in _COLUMNS[:4]), strict=True)
    ]
    frame[list(_COLUMNS[:4])] = np.asarray(quoted, dtype=np.float64)
    candles = _file_candles(pair, frame)
    return _futures_bars(pair, frame, candles, str(path), "no tick counts in the file", time_label)


def _prices(candles: Sequence[Candle]) -> pd.DataFrame:
    return candles_frame(candles)[list(_COLUMNS)]


def load_from_hub(client: CandleRangeReader, pair: str, start: datetime, end: datetime) -> MarketBars:
    """Both sources of `pair` in [start, end) from the hub (see the module notes for the pairing)."""
    cme = client.get_candles(pair, start, end, source=Source.DATABENTO)
    ig = client.get_candles(pair, start, end, source=Source.IG)
    period = f"{start.isoformat()} to {end.isoformat()}"
    if not cme:
        raise NoABDataError(
            f"variant A needs real volume: expected DATABENTO candles of {pair} from {period}, "
            f"was none (IG candles: {len(ig)}). Collect CME data for the period "
            "(`fxhub collect databento`) or run on a file of CME bars (--file)."
        )
    origin = f"hub {pair} {period}"
    if not ig:
        only = f"{origin} (DATABENTO only)"
        return _futures_bars(pair, _prices(cme), tuple(cme), only, "no IG tick counts", HUB_LABEL)
    frame = _prices(ig)
    real = _prices(cme)["volume"].reindex(frame.index).fillna(0.0).to_numpy(dtype=np.float64)
    ticks = frame["volume"].to_numpy(dtype=np.float64)
    a_weighting = "real volume (CME contracts of the same minute, 0 where CME has none)"
    return MarketBars(
        pair=pair,
        pip_size=get_instrument(pair).pip_size,
        frame=frame,
        candles=tuple(ig),
        anchor="fx",
        price_basis="spot",
        origin=f"{origin} (IG prices, DATABENTO volume)",
        time_label=HUB_LABEL,
        variants=(
            Variant(name="A", label="true_vwap", weighting=a_weighting, weights=real),
            Variant(name="B", label="tick_vwap", weighting="IG tick count (quote updates)", weights=ticks),
        ),
        real_volume_coverage=float((real > 0).mean()),
    )
