"""The leading fields of vendor tick rows, checked and decoded from bytes with numpy (no object per row).

A kind of file has a `RowLayout`: templates of the fixed-width fields its rows start with (time,
``epoch_ms``, ``utm_ms``, TrueFX's pair), its field count, and where prices, volumes and texts are.
`row_times` matches every row against the templates and decodes its time to ns since the epoch (HistData's
EST shifted to UTC), or answers None when a row fits no template or holds an impossible time: the caller
then reads that block with the row reader, which names the bad row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from fxhub.errors import DataFormatError
from fxhub.sources.ig.vendor_files import _TRUEFX_RAW_ROW  # read_quotes' own rule for raw TrueFX rows
from fxhub.sources.ig.vendor_rows import is_truefx_header, parse_dukascopy_header, truefx_pair_text

__all__ = ["INT64_MAX", "RowLayout", "row_layout", "row_times"]

Ints = npt.NDArray[np.int64]
Bytes = npt.NDArray[np.uint8]

_LATEST_NS: Final = 7_258_118_400_000_000_000  # 2200-01-01: vendor times lie in 1970 to 2199
INT64_MAX: Final = 2**63 - 1
_EST_NS: Final = 5 * 3600 * 1_000_000_000  # HistData: EST, UTC−5 all year
_WINDOW: Final = 64  # bytes of a row's start that the templates may cover
_MONTH_DAYS: Final = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
# Templates: a lower-case letter is a digit of a part (year, month, day, hour, mInute, second, fraction,
# epoch milliseconds); every other character stands for itself.
_PARTS: Final = "ymdhisfe"
_ISO_TIMES: Final = ("yyyy-mm-dd hh:ii:ss.ffffff", "yyyy-mm-dd hh:ii:ss")
_TRUEFX: Final = tuple(f"{time}{zone}," for zone in ("+00:00", "") for time in _ISO_TIMES)


@dataclass(frozen=True, slots=True)
class RowLayout:
    """A kind's data rows: leading templates (each row fits one), field count, float and text columns."""

    templates: tuple[str, ...]
    fields: int
    floats: dict[str, int]  # bid, ask and volumes → column
    texts: tuple[int, ...] = ()  # a recording's epic and pair columns
    header_lines: int = 0
    shift_ns: int = 0  # added to the wall time to make it UTC
    latest_ns: int = _LATEST_NS


def row_layout(kind: str, first: str, pair: str | None) -> RowLayout | None:
    """The vectorised shape of a file's rows; None when there is none (the row reader reads it all)."""
    if kind == "fxhub":  # utm_ms has no range of its own: only ns must fit int64
        return RowLayout(("e" * 13 + ",",), 5, {"bid": 3, "ask": 4}, (1, 2), 2, latest_ns=INT64_MAX)
    if kind == "histdata":
        return RowLayout(("yyyymmdd hhiissfff,",), 4, {"bid": 1, "ask": 2, "volume": 3}, shift_ns=_EST_NS)
    if kind == "truefx" and pair is not None and _TRUEFX_RAW_ROW.match(first):
        return RowLayout((f"{truefx_pair_text(pair)},yyyymmdd hh:ii:ss.fff,",), 4, {"bid": 2, "ask": 3})
    if kind == "truefx":
        return (
            RowLayout(_TRUEFX, 3, {"bid": 1, "ask": 2}, header_lines=1)
            if is_truefx_header(first.split(","))
            else None
        )
    try:
        columns = parse_dukascopy_header(first.split(","))
    except DataFormatError:
        return None
    names = ("bid", "ask", "bid_volume", "ask_volume")
    floats = {name: getattr(columns, name) for name in names if getattr(columns, name) is not None}
    leading = {(0, 1): "yyyy-mm-ddThh:ii:ss.fffZ," + "e" * 13 + ",", (None, 0): "e" * 13 + ","}
    template = leading.get((columns.time_utc, columns.epoch_ms))
    return None if template is None else RowLayout((template,), columns.count, floats, header_lines=1)


def _decode(cells: Bytes, template: str, layout: RowLayout) -> tuple[Ints, npt.NDArray[np.bool_]]:
    """Times in ns of rows (`cells`: one row of bytes per template position) and which are valid times."""

    def part(letter: str) -> Ints:
        number = np.zeros(cells.shape[1], np.int64)
        for position in (i for i, char in enumerate(template) if char == letter):
            number *= 10
            number += cells[position]
        number -= 48 * (10 ** template.count(letter) - 1) // 9  # the '0's added on the way
        return number

    ok = np.ones(cells.shape[1], np.bool_)
    ts = np.zeros(cells.shape[1], np.int64)
    if "y" in template:
        y, mo, d, h, mi, s = (part(letter) for letter in "ymdhis")
        leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
        month_days = _MONTH_DAYS[np.clip(mo - 1, 0, 11)] + (leap & (mo == 2))
        ok &= (y >= 1) & (mo >= 1) & (mo <= 12) & (d >= 1) & (d <= month_days)
        ok &= (h < 24) & (mi < 60) & (s < 60)
        year = y - (mo <= 2)  # days since 1970-01-01: H. Hinnant's days_from_civil
        era, of_era = year // 400, year % 400
        of_year = (153 * ((mo + 9) % 12) + 2) // 5 + d - 1
        days = era * 146_097 + of_era * 365 + of_era // 4 - of_era // 100 + of_year - 719_468
        ok &= (days >= -1) & (days <= 84_007)  # 1969-12-31 to 2200-01-01, before multiplying up
        seconds = ((np.where(ok, days, 0) * 24 + h) * 60 + mi) * 60 + s
        ts = seconds * 1_000_000_000 + part("f") * 10 ** (9 - template.count("f")) + layout.shift_ns
    if "e" in template:
        ms = part("e")
        fits = ms <= layout.latest_ns // 1_000_000
        epoch_ns = np.where(fits, ms, 0) * 1_000_000
        ok &= fits & ((ts == epoch_ns) if "y" in template else True)  # time_utc names epoch_ms' time
        ts = epoch_ns
    return ts, ok & (ts >= 0) & (ts < layout.latest_ns)


def row_times(data: Bytes, starts: Ints, layout: RowLayout) -> Ints | None:
    """Times of the rows starting at `starts`, each fitting one template; None if any row does not."""
    windows = np.lib.stride_tricks.sliding_window_view(
        np.concatenate((data, np.zeros(_WINDOW, np.uint8))), _WINDOW
    )
    ts = np.empty(len(starts), np.int64)
    todo = np.arange(len(starts))
    for template in layout.templates:
        cells = np.ascontiguousarray(windows[starts[todo], : len(template)].T)  # a row per position
        fits = np.ones(len(todo), np.bool_)
        for row, char in zip(cells, template, strict=False):
            fits &= (row - 48 <= 9) if char in _PARTS else (row == ord(char))  # uint8: below '0' wraps
        values, ok = _decode(cells if fits.all() else cells[:, fits], template, layout)
        if not ok.all():
            return None
        ts[todo[fits]] = values
        todo = todo[~fits]
    return None if len(todo) else ts
