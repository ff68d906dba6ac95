"""The IG tick recording format: what the live collector records, the simulator writes, and replay reads.

A UTF-8 CSV file (optionally gzip-compressed, by a ``.gz`` suffix) holding one quote update per row,
exactly as IG's ``CHART:{epic}:TICK`` stream delivers it::

    # fxhub-ig-ticks/1
    utm_ms,epic,pair,bid,offer
    1762203600123,CS.D.EURUSD.MINI.IP,EUR_USD,1.15201,1.15207

- the first line names the format and its version; lines starting with ``#`` are comments;
- ``utm_ms``: IG's UTM field, the update time in milliseconds since the Unix epoch (UTC);
- ``epic`` and ``pair``: the IG epic and fxhub's pair name;
- ``bid`` and ``offer``: prices as IG sends them (decimal text, in the pair's quoting);
- rows are in time order.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, TextIO, cast

from fxhub.errors import DataFormatError

__all__ = ["FORMAT_LINE", "HEADER", "ChunkedRecorder", "RecordedTick", "read_recording", "write_recording"]

FORMAT_LINE: Final = "# fxhub-ig-ticks/1"
HEADER: Final = ("utm_ms", "epic", "pair", "bid", "offer")


@dataclass(frozen=True, slots=True)
class RecordedTick:
    """One IG quote update as recorded."""

    utm_ms: int
    epic: str
    pair: str
    bid: float
    offer: float


@contextmanager
def _open_text(path: Path, mode: str) -> Iterator[TextIO]:
    binary = mode[0] + "b"
    if path.suffix != ".gz":
        with open(path, mode, encoding="utf-8", newline="") as text:
            yield cast(TextIO, text)
        return
    # No file name and mtime 0 in the gzip header: identical content gives identical bytes.
    with (
        open(path, binary) as raw,
        gzip.GzipFile(filename="", mode=binary, fileobj=raw, mtime=0) as zipped,
        io.TextIOWrapper(zipped, encoding="utf-8", newline="") as text,
    ):
        yield text


def write_recording(path: Path, ticks: Iterable[RecordedTick], *, price_decimals: int) -> int:
    """Write ticks to `path`; prices are written with `price_decimals` decimals. Returns the row count."""
    count = 0
    with _open_text(path, "w") as handle:
        handle.write(FORMAT_LINE + "\n")
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        for tick in ticks:
            writer.writerow(
                (
                    tick.utm_ms,
                    tick.epic,
                    tick.pair,
                    f"{tick.bid:.{price_decimals}f}",
                    f"{tick.offer:.{price_decimals}f}",
                )
            )
            count += 1
    return count


def read_recording(path: Path) -> Iterator[RecordedTick]:
    """Yield the ticks of a recording; anything malformed raises DataFormatError naming file and line."""
    line_no = 0
    try:
        with _open_text(path, "r") as handle:
            lines = enumerate(handle, start=1)
            line_no, first = next(lines, (1, ""))
            if first.rstrip("\r\n") != FORMAT_LINE:
                raise DataFormatError(
                    f"{path}:1: expected the line {FORMAT_LINE!r} of an fxhub IG recording, "
                    f"was {first.rstrip()[:80]!r}. Is this a vendor tick file? Pass --format."
                )
            header: tuple[str, ...] | None = None
            previous_ms = -1
            for line_no, text in lines:
                if text.startswith("#"):
                    continue
                fields = text.rstrip("\r\n").split(",")
                if header is None:
                    header = tuple(fields)
                    if header != HEADER:
                        raise DataFormatError(
                            f"{path}:{line_no}: expected the header {','.join(HEADER)!r}, was {fields!r}"
                        )
                    continue
                tick = _parse_row(path, line_no, fields)
                if tick.utm_ms < previous_ms:
                    raise DataFormatError(
                        f"{path}:{line_no}: utm_ms {tick.utm_ms} goes back in time "
                        f"(previous {previous_ms}); a recording is in time order"
                    )
                previous_ms = tick.utm_ms
                yield tick
            if header is None:
                raise DataFormatError(
                    f"{path}:{line_no + 1}: expected the header {','.join(HEADER)!r}, was None"
                )
    except (OSError, EOFError, UnicodeDecodeError, zlib.error) as exc:
        raise DataFormatError(
            f"{path}:{line_no + 1}: cannot read the recording ({exc}); expected UTF-8 text, "
            f"gzip-compressed when the name ends in .gz"
        ) from exc


def _parse_row(path: Path, line: int, row: list[str]) -> RecordedTick:
    if len(row) != len(HEADER):
        raise DataFormatError(
            f"{path}:{line}: expected {len(HEADER)} fields ({','.join(HEADER)}), was {len(row)}: {row!r}"
        )
    utm, epic, pair, bid_text, offer_text = row
    try:
        tick = RecordedTick(int(utm), epic, pair, float(bid_text), float(offer_text))
    except ValueError as exc:
        raise DataFormatError(
            f"{path}:{line}: {exc}; expected integer utm_ms and decimal prices, was {row!r}"
        ) from None
    finite = math.isfinite(tick.bid) and math.isfinite(tick.offer)
    if not (finite and tick.bid > 0 and tick.offer > 0 and tick.offer >= tick.bid):
        raise DataFormatError(
            f"{path}:{line}: expected 0 < bid ≤ offer, was bid {bid_text} offer {offer_text}"
        )
    return tick


class ChunkedRecorder:
    """Ticks collected live, written as complete recording files of at most a chunk each.

    `add` ticks as they come; when `due` (a chunk's worth of ticks or of time), `take` them and `write`
    them (the writing may happen on another thread): each file is in time order and named by its first
    tick, so a directory of chunks replays like one recording.
    """

    def __init__(self, directory: Path, *, decimals: int, chunk_ticks: int, chunk_ns: int) -> None:
        self.directory = directory
        self.decimals = decimals
        self.chunk_ticks = chunk_ticks
        self.chunk_ns = chunk_ns
        self.buffer: list[RecordedTick] = []
        self.started_ns: int | None = None
        self.files = 0

    def add(self, tick: RecordedTick, now_ns: int) -> None:
        if not self.buffer:
            self.started_ns = now_ns
        self.buffer.append(tick)

    def due(self, now_ns: int) -> bool:
        if not self.buffer:
            return False
        full = len(self.buffer) >= self.chunk_ticks
        return full or (self.started_ns is not None and now_ns - self.started_ns >= self.chunk_ns)

    def take(self) -> list[RecordedTick]:
        ticks, self.buffer, self.started_ns = self.buffer, [], None
        return ticks

    def write(self, ticks: list[RecordedTick]) -> Path:
        ticks.sort(key=lambda tick: tick.utm_ms)  # a recording is in time order; epics interleave
        first = datetime.fromtimestamp(ticks[0].utm_ms / 1000, UTC)
        self.files += 1
        path = self.directory / f"ig-ticks-{first:%Y%m%dT%H%M%S}Z-{self.files:04d}.csv.gz"
        write_recording(path, ticks, price_decimals=self.decimals)
        return path
