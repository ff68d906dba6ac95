"""Vendor tick rows translated into `Quote`s: pure functions, no I/O.

Each ``parse_*`` function takes one CSV row already split on commas and returns a `Quote`, or raises
`DataFormatError` saying what was expected and what came; the file reader adds the file and line.

The shapes, as the vendors write them:

- Dukascopy (as exported by dukascopy-node): a header, then
  ``2019-02-04T00:00:00.994Z,1549238400994,1.14543,1.14545,2.06,1.00``
  (``time_utc,epoch_ms,bid,ask,bid_volume,ask_volume``). Columns are found by their header names;
  ``epoch_ms`` is the time, ``time_utc`` (when present) must agree with it.
- HistData ASCII ticks: no header, ``20200101 170000065,1.121200,1.121720,0``: the time as
  ``YYYYMMDD HHMMSSfff`` in Eastern *Standard* Time all year round (UTC−5, no DST), then bid, ask and a
  volume that is always 0.
- TrueFX, two shapes: the vendor's own rows without a header, ``USD/JPY,20130101 22:00:00.295,86.655,86.728``
  (UTC, the pair in every row); or a ``timestamp,bid,ask`` header over ISO 8601 times such as
  ``2013-01-01 22:00:00.295000+00:00`` (a time without an offset is UTC, TrueFX's time base).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Final

from fxhub.errors import DataFormatError
from fxhub.model import Quote

__all__ = [
    "HISTDATA_TIMEZONE",
    "DukascopyColumns",
    "histdata_time_ns",
    "is_truefx_header",
    "parse_dukascopy_header",
    "parse_dukascopy_row",
    "parse_histdata_row",
    "parse_truefx_raw_row",
    "parse_truefx_row",
    "quote_from_text",
    "truefx_pair_text",
]

#: HistData writes Eastern Standard Time all year: a fixed UTC−5 that never switches to EDT.
HISTDATA_TIMEZONE: Final = timezone(timedelta(hours=-5), "EST")

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US: Final = timedelta(microseconds=1)
_NS_PER_MS: Final = 1_000_000
# Candles cover 1970 to 2199; a time outside is a corrupt row, not a quote.
_LATEST_NS: Final = (datetime(2200, 1, 1, tzinfo=UTC) - _EPOCH) // _ONE_US * 1000

_HISTDATA_TIME: Final = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2}) ([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{3})")
_TRUEFX_TIME: Final = re.compile(
    r"([0-9]{4})([0-9]{2})([0-9]{2}) ([0-9]{2}):([0-9]{2}):([0-9]{2})\.([0-9]{3})"
)
_TRUEFX_HEADER: Final = ("timestamp", "bid", "ask")


def _ns(moment: datetime) -> int:
    """Nanoseconds since the epoch of an aware datetime, exactly (no float on the way)."""
    return (moment - _EPOCH) // _ONE_US * 1000


def _price(name: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise DataFormatError(f"`{name}` is not a number, was {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise DataFormatError(f"`{name}` must be a positive finite price, was {text!r}")
    return value


def _volume(name: str, text: str) -> None:
    try:
        value = float(text)
    except ValueError:
        raise DataFormatError(f"`{name}` is not a number, was {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise DataFormatError(f"`{name}` must be a finite volume ≥ 0, was {text!r}")


def quote_from_text(symbol: str, ts_ns: int, bid_text: str, ask_text: str) -> Quote:
    """A `Quote` from price text, refusing what no market quotes: bad numbers, prices ≤ 0, bid > ask."""
    if not 0 <= ts_ns < _LATEST_NS:
        raise DataFormatError(f"the time must lie in the years 1970 to 2199, was {ts_ns} ns since the epoch")
    bid = _price("bid", bid_text)
    ask = _price("ask", ask_text)
    if bid > ask:
        raise DataFormatError(f"expected bid ≤ ask, was bid {bid_text} > ask {ask_text}")
    return Quote(symbol=symbol, ts_event=ts_ns, bid=bid, ask=ask)


def _expect_fields(row: list[str], count: int, shape: str) -> None:
    if len(row) != count:
        raise DataFormatError(f"expected {count} fields ({shape}), was {len(row)}: {row!r}")


# ------------------------------------------------------------------------------------------------- Dukascopy


@dataclass(frozen=True, slots=True)
class DukascopyColumns:
    """Where each column sits, from the header; None for an optional column the file lacks."""

    count: int
    epoch_ms: int
    bid: int
    ask: int
    time_utc: int | None
    bid_volume: int | None
    ask_volume: int | None


def parse_dukascopy_header(row: list[str]) -> DukascopyColumns:
    """Column positions from a Dukascopy header; epoch_ms, bid and ask are required."""
    names = [name.strip().lower() for name in row]
    missing = [name for name in ("epoch_ms", "bid", "ask") if name not in names]
    if missing:
        raise DataFormatError(
            f"expected a Dukascopy header naming epoch_ms, bid and ask (missing {', '.join(missing)}), "
            f"was {row!r}"
        )

    def find(name: str) -> int | None:
        return names.index(name) if name in names else None

    return DukascopyColumns(
        count=len(names),
        epoch_ms=names.index("epoch_ms"),
        bid=names.index("bid"),
        ask=names.index("ask"),
        time_utc=find("time_utc"),
        bid_volume=find("bid_volume"),
        ask_volume=find("ask_volume"),
    )


def parse_dukascopy_row(row: list[str], columns: DukascopyColumns, symbol: str) -> Quote:
    """One Dukascopy tick; `time_utc`, when present, must name the same millisecond as `epoch_ms`."""
    _expect_fields(row, columns.count, "as many as the header names")
    ms_text = row[columns.epoch_ms]
    if not ms_text.isascii() or not ms_text.isdigit():
        raise DataFormatError(f"`epoch_ms` must be whole milliseconds since the epoch, was {ms_text!r}")
    ts_ns = int(ms_text) * _NS_PER_MS
    if columns.time_utc is not None:
        text = row[columns.time_utc]
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise DataFormatError(f"`time_utc` is not an ISO 8601 time, was {text!r}") from None
        if moment.tzinfo is None or _ns(moment) != ts_ns:
            raise DataFormatError(f"`time_utc` must be the UTC time of `epoch_ms` ({ms_text}), was {text!r}")
    for name, index in (("bid_volume", columns.bid_volume), ("ask_volume", columns.ask_volume)):
        if index is not None:
            _volume(name, row[index])
    return quote_from_text(symbol, ts_ns, row[columns.bid], row[columns.ask])


# -------------------------------------------------------------------------------------------------- HistData


def histdata_time_ns(text: str) -> int:
    """A HistData time ``YYYYMMDD HHMMSSfff`` (EST, UTC−5 all year) as nanoseconds since the epoch."""
    match = _HISTDATA_TIME.fullmatch(text)
    if match is None:
        raise DataFormatError(f"expected the time as YYYYMMDD HHMMSSfff (EST, UTC−5), was {text!r}")
    year, month, day, hour, minute, second, milli = (int(part) for part in match.groups())
    try:
        local = datetime(year, month, day, hour, minute, second, milli * 1000, tzinfo=HISTDATA_TIMEZONE)
    except ValueError as exc:
        raise DataFormatError(f"not a valid time ({exc}), was {text!r}") from None
    return _ns(local)


def parse_histdata_row(row: list[str], symbol: str) -> Quote:
    """One HistData tick: ``YYYYMMDD HHMMSSfff,bid,ask,volume``."""
    _expect_fields(row, 4, "YYYYMMDD HHMMSSfff,bid,ask,volume")
    ts_ns = histdata_time_ns(row[0])
    _volume("volume", row[3])
    return quote_from_text(symbol, ts_ns, row[1], row[2])


# ---------------------------------------------------------------------------------------------------- TrueFX


def is_truefx_header(row: list[str]) -> bool:
    return tuple(name.strip().lower() for name in row) == _TRUEFX_HEADER


def truefx_pair_text(pair: str) -> str:
    """TrueFX's name of an fxhub pair: ``USD_JPY`` → ``USD/JPY``."""
    return pair.replace("_", "/")


def parse_truefx_row(row: list[str], symbol: str) -> Quote:
    """One row under a ``timestamp,bid,ask`` header; an ISO time without an offset is UTC."""
    _expect_fields(row, 3, "timestamp,bid,ask")
    text = row[0]
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise DataFormatError(
            f"`timestamp` is not an ISO 8601 time such as 2013-01-01 22:00:00.295000+00:00, was {text!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return quote_from_text(symbol, _ns(moment), row[1], row[2])


def parse_truefx_raw_row(row: list[str], symbol: str) -> Quote:
    """One row as TrueFX publishes it: ``USD/JPY,YYYYMMDD HH:MM:SS.fff,bid,ask`` in UTC."""
    _expect_fields(row, 4, "PAIR,YYYYMMDD HH:MM:SS.fff,bid,ask")
    expected = truefx_pair_text(symbol)
    if row[0] != expected:
        raise DataFormatError(f"expected the pair {expected} of the file's first row, was {row[0]!r}")
    match = _TRUEFX_TIME.fullmatch(row[1])
    if match is None:
        raise DataFormatError(f"expected the time as YYYYMMDD HH:MM:SS.fff (UTC), was {row[1]!r}")
    year, month, day, hour, minute, second, milli = (int(part) for part in match.groups())
    try:
        moment = datetime(year, month, day, hour, minute, second, milli * 1000, tzinfo=UTC)
    except ValueError as exc:
        raise DataFormatError(f"not a valid time ({exc}), was {row[1]!r}") from None
    return quote_from_text(symbol, _ns(moment), row[2], row[3])
