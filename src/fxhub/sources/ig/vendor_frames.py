"""Tick files as numpy chunks, vectorised: the fast twin of `vendor_files.read_quotes` for imports.

`read_tick_frames` settles a file's format and pair as `read_quotes` does (same rules, same errors); its
`TickFrames` reads the file in blocks of whole lines and turns each into `TickChunk`s (int64 ``ts_ns``,
float64 ``bid`` and ``ask`` of one pair) without a Python object per row: the leading fixed-width fields
(time, ``epoch_ms``, ``utm_ms``, TrueFX's pair) are checked and decoded from the bytes against templates
of the shapes the vendors write; prices and volumes come from `pandas.read_csv` (C engine, float64, no
quoting), which parses floats to the very values Python's `float` gives; then every rule of the row
reader is checked on whole columns (field counts, finite positive prices, bid ≤ ask, volumes ≥ 0, times
in 1970–2199 never going back, also across blocks, ``time_utc`` = ``epoch_ms``, a recording's pairs).

A block that fails any check — a malformed row, or a valid shape outside the templates — is read by the
row reader itself, positioned at the block's first row: it yields the same quotes, or the rows before
the bad one and then the same `DataFormatError` at the same ``file:line``. So the two readers cannot
disagree, and the row reader's cost is paid only where a file is malformed or unusual.
"""

from __future__ import annotations

import csv
import io
import itertools
import zlib
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from fxhub.core.bars import BarSpec
from fxhub.core.bars.quote_minutes import QuoteMinuteBuilder, merge_quote_chunks
from fxhub.errors import DataFormatError
from fxhub.instruments import InstrumentTable, load_instruments
from fxhub.model import Candle
from fxhub.sources.ig.recording import FORMAT_LINE, HEADER
from fxhub.sources.ig.replay import fx_minute_open
from fxhub.sources.ig.vendor_files import (  # read_quotes' own settling rules
    _READ_ERRORS,
    _TRUEFX_RAW_ROW,
    QuoteWithEpic,
    _first_line,
    _format_of,
    _pair_in_file,
    _pair_of_vendor_file,
    _requested_pair,
    read_quotes,
)
from fxhub.sources.ig.vendor_times import INT64_MAX, RowLayout, row_layout, row_times

__all__ = ["CHUNK_BYTES", "TickChunk", "TickFrames", "import_tick_files", "read_tick_frames"]

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bytes = npt.NDArray[np.uint8]

CHUNK_BYTES: Final = 1 << 20  # about 16,000 Dukascopy rows per block
_AHEAD: Final = 2  # blocks parsed ahead of the one handed out


@dataclass(frozen=True, slots=True)
class TickChunk:
    """Quotes of one pair in file order; `epic` is a recording's (its first row's), else None."""

    pair: str
    epic: str | None
    ts_ns: Ints
    bid: Floats
    ask: Floats


_Parsed = tuple[list[TickChunk], Ints] | None  # a block's chunks and times, None if it failed a check


def _inflate(raw: IO[bytes]) -> Iterator[bytes]:
    """The decompressed text of gzip members one after another; a bad or cut stream raises."""
    inflater, fed = zlib.decompressobj(wbits=31), False
    while piece := raw.read(1 << 20):
        while piece:
            yield inflater.decompress(piece)
            fed, piece = True, b""
            if inflater.eof:
                inflater, fed, piece = zlib.decompressobj(wbits=31), False, inflater.unused_data
    if fed:
        raise EOFError("the gzip stream ends before its end-of-stream marker")


def _ahead(
    pool: ThreadPoolExecutor, blocks: Iterator[bytes], parse: Callable[[bytes, bool], _Parsed]
) -> Iterator[tuple[bytes | BaseException, _Parsed]]:
    """Blocks with their parses, in order; the next block is read and up to `_AHEAD` parsed meanwhile.

    A block that cannot be read comes as its exception, with nothing after it.
    """

    def read() -> bytes | BaseException | None:
        try:
            return next(blocks, None)
        except _READ_ERRORS as exc:
            return exc

    parses: deque[tuple[bytes | BaseException, Future[_Parsed] | None]] = deque()
    coming = pool.submit(read)
    first = True
    while True:
        block = coming.result()
        if isinstance(block, bytes):
            coming = pool.submit(read)
            parses.append((block, pool.submit(parse, block, first)))
            first = False
        elif block is not None:
            parses.append((block, None))
        while parses and (len(parses) > _AHEAD or not isinstance(block, bytes)):
            item, parsed = parses.popleft()
            yield item, None if parsed is None else parsed.result()
        if not isinstance(block, bytes):
            return


def read_tick_frames(
    path: Path,
    *,
    fmt: str = "auto",
    pair: str | None = None,
    table: InstrumentTable | None = None,
    chunk_bytes: int = CHUNK_BYTES,
) -> TickFrames:
    """The file with its format and pair settled (failing as `read_quotes` fails); iterate it for chunks."""
    instruments = load_instruments() if table is None else table
    read_quotes(
        path, fmt=fmt, pair=pair, table=instruments
    )  # raises what the row reader raises, reads no row
    first = _first_line(path)
    kind = _format_of(path, first) if fmt == "auto" else fmt
    requested = None if pair is None else _requested_pair(pair, instruments)
    raw_truefx = _TRUEFX_RAW_ROW.match(first) if kind == "truefx" else None
    symbol = None
    if raw_truefx is not None:
        symbol = _pair_in_file(path, "/".join(raw_truefx.groups()), requested, instruments)
    elif kind != "fxhub":
        symbol = _pair_of_vendor_file(path, kind, requested, instruments)
    wanted = frozenset(instruments.pairs if requested is None else (requested,))
    return TickFrames(
        path, kind, symbol, instruments, row_layout(kind, first, symbol), pair, wanted, chunk_bytes
    )


@dataclass(slots=True)
class TickFrames:
    """A tick file with its format and pair settled; each iteration reads it as `TickChunk`s."""

    path: Path
    kind: str
    pair: str | None  # None for an fxhub recording: its rows name their pairs
    table: InstrumentTable
    layout: RowLayout | None  # None: no vectorised shape, the row reader reads every block
    requested: str | None  # the `pair` argument as given, for the row reader
    wanted: frozenset[str]  # the pairs a recording may hold
    chunk_bytes: int = CHUNK_BYTES
    by_row_reader: int = 0  # rows of the last reading that the row reader read (blocks that failed a check)
    _rows: Iterator[QuoteWithEpic] | None = None  # the row reader, once a block needed it
    _done: int = 0  # rows handed out so far
    _rows_at: int = 0  # rows the row reader has read
    _last_ns: int = -1  # the row reader's last time

    def __iter__(self) -> Iterator[TickChunk]:
        self._rows, self._done, self._rows_at, self.by_row_reader = None, 0, 0, 0
        last_ns = -1
        with ThreadPoolExecutor(max_workers=2) as pool:  # inflating and parsing run ahead, off the GIL
            for index, (block, parsed) in enumerate(_ahead(pool, self._blocks(), self._parse)):
                if isinstance(block, BaseException):  # the file cannot be read on
                    yield from self._by_rows(None)  # the row reader raises its own error, at its line
                    return
                if parsed is not None and (not len(parsed[1]) or parsed[1][0] >= last_ns):
                    chunks, ts_ns = parsed
                    self._done, last_ns = self._done + len(ts_ns), int(ts_ns.max(initial=last_ns))
                    yield from chunks
                elif index == 0 and self._header_lines:  # the header block failed: the row reader reads on
                    yield from self._by_rows(None)
                    return
                else:
                    yield from self._by_rows(self._count_rows(block))
                    last_ns = max(last_ns, self._last_ns)

    def _blocks(self) -> Iterator[bytes]:
        """The file's text in blocks of whole lines (the last may lack its newline)."""
        with open(self.path, "rb") as raw:
            packed = raw.read(2) == b"\x1f\x8b" if self.kind != "fxhub" else self.path.suffix == ".gz"
            raw.seek(0)
            pieces = _inflate(raw) if packed else iter(lambda: raw.read(self.chunk_bytes), b"")
            # Vendor files are read as utf-8-sig (a spreadsheet's byte-order mark), recordings as utf-8.
            rest, mark = b"", b"" if self.kind == "fxhub" else b"\xef\xbb\xbf"
            for piece in pieces:
                data = rest + piece
                cut = data.rfind(b"\n") + 1 if len(data) >= self.chunk_bytes else 0
                if cut:
                    yield data[:cut].removeprefix(mark)
                    mark = b""
                rest = data[cut:]
            if rest:
                yield rest.removeprefix(mark)

    @property
    def _header_lines(self) -> int:
        return 1 if self.layout is None else self.layout.header_lines

    def _parse(self, block: bytes, first: bool) -> tuple[list[TickChunk], Ints] | None:
        """The block's chunks and times when every row fits the layout and passes every check on its own
        (the times' order across blocks is checked by the caller), else None. Runs in a worker thread."""
        layout = self.layout
        if layout is None:
            return None
        begin = 0  # where the data rows start: after the header, in the first block
        if first and layout.header_lines:
            expected = [FORMAT_LINE, ",".join(HEADER)] if self.kind == "fxhub" else [_first_line(self.path)]
            for line in expected:
                end = block.find(b"\n", begin)
                if end < 0 or block[begin:end].rstrip(b"\r") != line.encode():
                    return None
                begin = end + 1
        if begin == len(block):
            return [], np.empty(0, np.int64)
        data = np.frombuffer(block, np.uint8, offset=begin)
        returns = np.flatnonzero(data == 13)
        if len(returns) and (returns[-1] + 1 == len(data) or (data[returns + 1] != 10).any()):
            return None  # a lone CR ends a line too: the row reader counts those
        ends = np.flatnonzero(data == 10)
        if block[-1] != 10:
            ends = np.append(ends, len(data))
        starts = np.concatenate(([0], ends[:-1] + 1)).astype(np.int64)[: len(ends)]
        length = ends - starts - ((ends > starts) & (data[np.maximum(ends - 1, 0)] == 13))
        if self.kind == "fxhub" and not length.all():
            return None  # the recording reader refuses blank lines
        starts = starts[length > 0]
        if not len(starts):
            return [], np.empty(0, np.int64)
        if np.count_nonzero(data == 44) != (layout.fields - 1) * len(starts):
            return None  # with the NaN a missing last field gives, every row has exactly `fields` fields
        ts_ns = row_times(data, starts, layout)
        if ts_ns is None:
            return None
        used = sorted((*layout.floats.values(), *layout.texts))
        text = io.BytesIO(block)  # shares the block's bytes
        text.seek(begin)
        try:
            frame = pd.read_csv(
                text,
                header=None,
                names=[f"c{i}" for i in range(layout.fields)],
                usecols=[f"c{i}" for i in used],
                dtype={f"c{i}": "category" if i in layout.texts else np.float64 for i in used},
                engine="c",
                quoting=csv.QUOTE_NONE,
            )
        except ValueError:  # pandas' ParserError, UnicodeDecodeError
            return None
        return self._checked(frame, ts_ns, layout) if len(frame) == len(ts_ns) else None

    def _checked(
        self, frame: pd.DataFrame, ts_ns: Ints, layout: RowLayout
    ) -> tuple[list[TickChunk], Ints] | None:
        column = {name: frame[f"c{index}"].to_numpy(np.float64) for name, index in layout.floats.items()}
        bid, ask = column.pop("bid"), column.pop("ask")
        good = np.isfinite(bid) & np.isfinite(ask) & (bid > 0) & (bid <= ask)
        for volume in column.values():
            good &= np.isfinite(volume) & (volume >= 0)
        if not (good.all() and (ts_ns[1:] >= ts_ns[:-1]).all()):
            return None
        chunks = [TickChunk(self.pair, None, ts_ns, bid, ask)] if self.pair is not None else []
        if self.pair is None:
            epics, pairs = (pd.Categorical(frame[f"c{index}"]) for index in layout.texts)
            named = [str(name) for name in pairs.categories]
            if (epics.codes < 0).any() or (pairs.codes < 0).any() or not set(named) <= self.wanted:
                return None
            for code in np.unique(pairs.codes):
                rows = np.flatnonzero(pairs.codes == code)
                epic = str(epics.categories[epics.codes[rows[0]]])
                chunks.append(TickChunk(named[code], epic, ts_ns[rows], bid[rows], ask[rows]))
        return chunks, ts_ns

    def _count_rows(self, block: bytes) -> int | None:
        """Rows the row reader reads in `block`; None (all that are left) if the block does not decode."""
        try:
            lines = io.StringIO(block.decode(), newline="")
        except UnicodeDecodeError:
            return None
        if self.kind == "fxhub":
            return sum(not line.startswith("#") for line in lines)  # the recording reader skips comments
        return sum(bool(line.strip()) for line in lines)  # the vendor readers skip blank lines

    def _by_rows(self, count: int | None) -> Iterator[TickChunk]:
        """The next `count` rows (None: all) from the row reader, positioned where the chunks end."""
        if self._rows is None:
            self._rows, self._rows_at = (
                read_quotes(self.path, fmt=self.kind, pair=self.requested, table=self.table),
                0,
            )
        skip = self._done - self._rows_at  # the rows the chunks handed out since
        next(itertools.islice(self._rows, skip, skip), None)
        rows: list[QuoteWithEpic] = []
        error: DataFormatError | None = None
        try:
            rows.extend(itertools.islice(self._rows, count))
        except DataFormatError as exc:
            error = exc
        by_pair: dict[str, list[QuoteWithEpic]] = {}
        for row in rows:
            by_pair.setdefault(row[0].symbol, []).append(row)
        for pair, part in by_pair.items():
            if part[-1][0].ts_event > INT64_MAX:  # only a recording's utm_ms is not held to 1970–2199
                utm_ms = part[-1][0].ts_event // 1_000_000
                raise DataFormatError(f"{self.path}: utm_ms {utm_ms} of {pair} lies past the year 2262")
            ts_ns = np.array([quote.ts_event for quote, _ in part], np.int64)
            bid, ask = (np.array([getattr(quote, side) for quote, _ in part]) for side in ("bid", "ask"))
            yield TickChunk(pair, part[0][1], ts_ns, bid, ask)
        self._done += len(rows)
        self._rows_at = self._done
        self.by_row_reader += len(rows)
        self._last_ns = rows[-1][0].ts_event if rows else self._last_ns
        if error is not None:
            raise error  # after the rows before it, as the row reader does


def import_tick_files(
    files: Sequence[TickFrames],
    handler: Callable[[Candle], None],
    *,
    spec: BarSpec | None = None,
    market_open: Callable[[int], bool] = fx_minute_open,
) -> tuple[int, int]:
    """Candles of vendor tick files, a pair at a time: the ones `replay_quotes` into `IgBars` makes.

    Several files of one pair are merged in time order as `heapq.merge` merges their quotes. Returns the
    quotes read and the late quotes dropped.
    """
    by_pair: dict[str, list[TickFrames]] = {}
    for file in files:
        if file.pair is None:
            raise ValueError(f"{file.path} is an fxhub recording: replay it with read_quotes into IgBars")
        by_pair.setdefault(file.pair, []).append(file)
    quotes = late = 0
    for pair, group in by_pair.items():
        pip_size = group[0].table.get(pair).pip_size
        builder = QuoteMinuteBuilder(pair, pip_size, spec or BarSpec(), handler, market_open)
        for ts_ns, bid, ask in merge_quote_chunks([_columns(file) for file in group]):
            builder.add(ts_ns, bid, ask)
        builder.flush()
        quotes, late = quotes + builder.quotes, late + builder.late_quotes
    return quotes, late


def _columns(file: TickFrames) -> Iterator[tuple[Ints, Floats, Floats]]:
    return ((chunk.ts_ns, chunk.bid, chunk.ask) for chunk in file)
