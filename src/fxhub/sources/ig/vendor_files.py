"""Tick files as quotes for replay: fxhub's own IG recordings and vendor downloads.

`read_quotes` yields ``(Quote, epic)`` pairs in time order, ready for `replay_quotes`, streaming the file one
line at a time (plain or gzip, told apart by the file's first bytes, so a misnamed file still reads).

Formats (``fmt``, the CLI's ``--format``); ``auto`` looks at the first non-blank line:

- ``fxhub``: our recording (`fxhub.sources.ig.recording`), first line ``# fxhub-ig-ticks/1``; each row names
  its pair and epic;
- ``dukascopy``: a header naming ``epoch_ms``, ``bid`` and ``ask``;
- ``histdata``: rows shaped ``YYYYMMDD HHMMSSfff,bid,ask,0``, times in EST (UTC−5 all year, never DST);
- ``truefx``: a ``timestamp,bid,ask`` header, or TrueFX's own rows ``USD/JPY,YYYYMMDD HH:MM:SS.fff,bid,ask``.
  See `fxhub.sources.ig.vendor_rows` for the row shapes.

The pair: what the file says (fxhub recordings, TrueFX's own rows) decides; otherwise the file name
(``EURUSD``, ``EUR_USD`` or ``EUR-USD`` in any case), otherwise the ``pair`` argument (``--pair``). Every
stated pair must agree: a ``pair`` argument that contradicts the file or its name is an error, never
silently preferred. Vendor quotes carry no epic (None).

Rows must not go back in time; equal times are fine (vendors stamp several updates with one millisecond).
Anything malformed raises `DataFormatError` naming ``file:line`` and what was wrong.
"""

from __future__ import annotations

import functools
import gzip
import io
import logging
import re
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, TextIO

from fxhub.errors import ConfigError, DataFormatError
from fxhub.instruments import InstrumentTable, load_instruments
from fxhub.model import Quote
from fxhub.sources.ig.recording import FORMAT_LINE, read_recording
from fxhub.sources.ig.vendor_rows import (
    is_truefx_header,
    parse_dukascopy_header,
    parse_dukascopy_row,
    parse_histdata_row,
    parse_truefx_raw_row,
    parse_truefx_row,
)

__all__ = ["FORMATS", "QuoteWithEpic", "detect_format", "pairs_in_file_name", "read_quotes"]

logger = logging.getLogger(__name__)

FORMATS: Final = ("fxhub", "dukascopy", "histdata", "truefx")
#: Detection reads at most this much of the first line, so a binary file cannot fill memory.
FIRST_LINE_MAX_CHARS: Final = 1024

QuoteWithEpic = tuple[Quote, str | None]
_RowParser = Callable[[list[str]], Quote]

_GZIP_MAGIC: Final = b"\x1f\x8b"
_HISTDATA_ROW: Final = re.compile(r"[0-9]{8} [0-9]{9},")
_TRUEFX_RAW_ROW: Final = re.compile(r"([A-Z]{3})/([A-Z]{3}),[0-9]{8} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3},")
_NOT_LETTERS: Final = re.compile(r"[^A-Z]")
_READ_ERRORS: Final = (OSError, EOFError, UnicodeDecodeError, zlib.error)


def detect_format(path: Path) -> str:
    """The format of `path` (one of `FORMATS`) from its first non-blank line."""
    return _format_of(path, _first_line(path))


def read_quotes(
    path: Path,
    *,
    fmt: str = "auto",
    pair: str | None = None,
    table: InstrumentTable | None = None,
) -> Iterator[QuoteWithEpic]:
    """Stream the quotes of a tick file with their epic (None for vendor files), in time order.

    The format and the pair are settled before this returns, so a wrong `fmt`, an unknown format or a
    missing pair fail at the call; malformed rows fail while iterating, naming ``file:line``.
    `pair` accepts ``EUR_USD``, ``EURUSD`` or ``EUR/USD``; `table` defaults to the shipped instruments.
    """
    instruments = load_instruments() if table is None else table
    if fmt != "auto" and fmt not in FORMATS:
        raise ConfigError(f"`fmt` (--format) must be auto or one of {', '.join(FORMATS)}, was {fmt!r}")
    requested = None if pair is None else _requested_pair(pair, instruments)
    first = _first_line(path)
    kind = _format_of(path, first) if fmt == "auto" else fmt
    if kind == "fxhub":
        logger.info("reading %s as an fxhub recording", path)
        return _recording_quotes(path, requested, instruments)
    raw_truefx = _TRUEFX_RAW_ROW.match(first) if kind == "truefx" else None
    if raw_truefx is not None:
        symbol = _pair_in_file(path, "/".join(raw_truefx.groups()), requested, instruments)
    else:
        symbol = _pair_of_vendor_file(path, kind, requested, instruments)
    logger.info("reading %s as %s ticks of %s", path, kind, symbol)
    return _vendor_quotes(path, kind, symbol)


def pairs_in_file_name(name: str, table: InstrumentTable) -> tuple[str, ...]:
    """The known pairs a file name mentions as ``EURUSD``, ``EUR_USD`` or ``EUR-USD`` (any case)."""
    upper = name.upper()
    return tuple(
        instrument.pair
        for instrument in table.instruments
        if any(f"{instrument.base}{separator}{instrument.quote}" in upper for separator in ("", "_", "-"))
    )


# --------------------------------------------------------------------------------------------------- opening


@contextmanager
def _open_text(path: Path) -> Iterator[TextIO]:
    with open(path, "rb") as raw:
        packed = raw.read(len(_GZIP_MAGIC)) == _GZIP_MAGIC
        raw.seek(0)
        stream: gzip.GzipFile | io.BufferedReader = gzip.GzipFile(fileobj=raw, mode="rb") if packed else raw
        # utf-8-sig drops a byte-order mark that spreadsheet exports put in front of the header.
        with io.TextIOWrapper(stream, encoding="utf-8-sig", newline="") as text:
            yield text


def _cannot_read(path: Path, line: int, exc: BaseException) -> DataFormatError:
    return DataFormatError(
        f"{path}:{line}: cannot read the file ({exc}); expected UTF-8 text, plain or gzip-compressed"
    )


def _first_line(path: Path) -> str:
    line_no = 1
    try:
        with _open_text(path) as handle:
            while True:
                text = handle.readline(FIRST_LINE_MAX_CHARS)
                if not text or text.strip():
                    return text.rstrip("\r\n")
                line_no += 1
    except _READ_ERRORS as exc:
        raise _cannot_read(path, line_no, exc) from exc


def _format_of(path: Path, first: str) -> str:
    if first == FORMAT_LINE:
        return "fxhub"
    names = {name.strip().lower() for name in first.split(",")}
    if {"epoch_ms", "bid", "ask"} <= names:
        return "dukascopy"
    if _HISTDATA_ROW.match(first):
        return "histdata"
    if is_truefx_header(first.split(",")) or _TRUEFX_RAW_ROW.match(first):
        return "truefx"
    raise DataFormatError(
        f"{path}: cannot tell the format from the first line, was {first[:80]!r}; expected "
        f"{FORMAT_LINE!r} (fxhub), a header naming epoch_ms,bid,ask (dukascopy), a row "
        f"'YYYYMMDD HHMMSSfff,bid,ask,0' (histdata), or a header 'timestamp,bid,ask' or a row "
        f"'EUR/USD,YYYYMMDD HH:MM:SS.fff,bid,ask' (truefx). If the file is one of these, pass "
        f"--format with {', '.join(FORMATS)}."
    )


# ------------------------------------------------------------------------------------------------------ pair


def _pair_by_letters(text: str, table: InstrumentTable) -> str | None:
    letters = _NOT_LETTERS.sub("", text.upper())
    for instrument in table.instruments:
        if instrument.base + instrument.quote == letters:
            return instrument.pair
    return None


def _requested_pair(text: str, table: InstrumentTable) -> str:
    found = _pair_by_letters(text, table)
    if found is None:
        raise ConfigError(
            f"`pair` (--pair) must be one of {', '.join(table.pairs)}, was {text!r}; "
            f"add the pair to the instrument table (instruments.toml) to import it."
        )
    return found


def _pair_in_file(path: Path, text: str, requested: str | None, table: InstrumentTable) -> str:
    found = _pair_by_letters(text, table)
    if found is None:
        raise DataFormatError(
            f"{path}:1: the file holds {text} quotes, was not a pair of the instrument table "
            f"({', '.join(table.pairs)}); add it to instruments.toml to import the file."
        )
    if requested is not None and requested != found:
        raise DataFormatError(
            f"{path}:1: --pair says {requested}, but the file holds {text} quotes; "
            f"drop --pair (the file names its pair) or pass --pair {found}."
        )
    return found


def _pair_of_vendor_file(path: Path, kind: str, requested: str | None, table: InstrumentTable) -> str:
    named = pairs_in_file_name(path.name, table)
    if requested is not None:
        if named and requested not in named:
            raise DataFormatError(
                f"{path}: --pair says {requested}, but the file name names {' and '.join(named)}; "
                f"pass the pair the file holds, or rename the file if its name is wrong."
            )
        return requested
    if len(named) == 1:
        return named[0]
    if named:
        raise DataFormatError(
            f"{path}: the file name names several pairs ({', '.join(named)}); "
            f"pass --pair with the one the file holds."
        )
    raise DataFormatError(
        f"{path}: cannot tell the pair: {kind} rows do not name it and the file name names none of "
        f"{', '.join(table.pairs)} (as e.g. EURUSD or EUR_USD). Pass --pair, e.g. --pair {table.pairs[0]}."
    )


# --------------------------------------------------------------------------------------------------- reading


def _recording_quotes(path: Path, requested: str | None, table: InstrumentTable) -> Iterator[QuoteWithEpic]:
    known = frozenset(table.pairs)
    for number, tick in enumerate(read_recording(path), start=1):
        if tick.pair not in known:
            raise DataFormatError(
                f"{path}: tick {number} is for {tick.pair!r}, not a pair of the instrument table "
                f"({', '.join(table.pairs)}); add it to instruments.toml to replay it."
            )
        if requested is not None and tick.pair != requested:
            raise DataFormatError(
                f"{path}: --pair says {requested}, but tick {number} is for {tick.pair}; "
                f"a recording names its own pairs, so drop --pair."
            )
        quote = Quote(symbol=tick.pair, ts_event=tick.utm_ms * 1_000_000, bid=tick.bid, ask=tick.offer)
        yield quote, tick.epic


def _row_parser(kind: str, first_row: list[str], symbol: str) -> tuple[_RowParser, bool]:
    """The parser of a file's rows, and whether `first_row` is a header to skip."""
    if kind == "dukascopy":
        columns = parse_dukascopy_header(first_row)
        return functools.partial(parse_dukascopy_row, columns=columns, symbol=symbol), True
    if kind == "histdata":
        return functools.partial(parse_histdata_row, symbol=symbol), False
    if is_truefx_header(first_row):
        return functools.partial(parse_truefx_row, symbol=symbol), True
    return functools.partial(parse_truefx_raw_row, symbol=symbol), False


def _iso(ts_ns: int) -> str:
    return datetime.fromtimestamp(ts_ns // 1000 / 1e6, UTC).isoformat()


def _vendor_quotes(path: Path, kind: str, symbol: str) -> Iterator[QuoteWithEpic]:
    line_no = 0
    parse: _RowParser | None = None
    previous_ns = 0
    try:
        with _open_text(path) as handle:
            for line_no, text in enumerate(handle, start=1):
                line = text.rstrip("\r\n")
                if not line.strip():
                    continue
                row = line.split(",")
                try:
                    if parse is None:
                        parse, is_header = _row_parser(kind, row, symbol)
                        if is_header:
                            continue
                    quote = parse(row)
                except DataFormatError as exc:
                    raise DataFormatError(f"{path}:{line_no}: {exc}") from None
                if quote.ts_event < previous_ns:
                    raise DataFormatError(
                        f"{path}:{line_no}: time goes backwards, was {_iso(quote.ts_event)} after "
                        f"{_iso(previous_ns)}; expected rows in time order (equal times are fine). "
                        f"Sort the file by time."
                    )
                previous_ns = quote.ts_event
                yield quote, None
    except _READ_ERRORS as exc:
        raise _cannot_read(path, line_no + 1, exc) from exc
