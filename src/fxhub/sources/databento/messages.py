"""Pure translation of DBN record arrays (MBP-10, MBP-1, TBBO, trades) into the core's bar inputs.

Facts used (DOMAIN.md §4): prices are int64 at 1e-9; UNDEF_PRICE marks an empty level; a trade is an
`action == 'T'` record whose levels are the book *before* the trade; the book is complete only on a
record flagged F_LAST; `side` on a trade is the aggressor (B buy, A sell, N unknown).

Every DBN market-by-price record is a 48-byte header followed by its levels, 32 bytes each
(bid_px, ask_px, bid_sz, ask_sz, bid_ct, ask_ct); the level block is read as one (n, levels) view
instead of forty separate fields.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from fxhub.core.bars import BUY, EMPTY_BID, SELL, BookColumns, TradeColumns

__all__ = [
    "F_LAST",
    "PRICE_SCALE",
    "UNDEF_PRICE",
    "Records",
    "book_columns",
    "book_levels",
    "split_by_instrument",
    "trade_columns",
]

UNDEF_PRICE: Final = 2**63 - 1
F_LAST: Final = 0x80
PRICE_SCALE: Final = 1e9  # DBN prices are integers in units of 1e-9
_HEADER_BYTES: Final = 48
_LEVEL: Final = np.dtype(
    [
        ("bid_px", "<i8"),
        ("ask_px", "<i8"),
        ("bid_sz", "<u4"),
        ("ask_sz", "<u4"),
        ("bid_ct", "<u4"),
        ("ask_ct", "<u4"),
    ]
)

Records = npt.NDArray[np.void]


def book_levels(records: Records) -> int:
    """How many book levels a record array carries: 10 (MBP-10), 1 (MBP-1, TBBO) or 0 (trades)."""
    names = records.dtype.names or ()
    if "bid_px_09" in names:
        return 10
    return 1 if "bid_px_00" in names else 0


def split_by_instrument(records: Records) -> dict[int, Records]:
    """Records per instrument id, each in its original (arrival) order."""
    ids = records["instrument_id"]
    first = ids[0]
    if (ids == first).all():
        return {int(first): records}
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    bounds = np.flatnonzero(np.diff(sorted_ids)) + 1
    return {int(ids[g[0]]): records[g] for g in np.split(order, bounds)}


def trade_columns(records: Records) -> TradeColumns:
    """The trades among `records` (every row of a trades-schema array; `T` rows of a book schema)."""
    rows = np.flatnonzero(records["action"] == b"T")
    side = records["side"][rows]
    aggressor = np.where(side == b"B", BUY, np.where(side == b"A", SELL, 0)).astype(np.int8)
    return TradeColumns(
        records["ts_event"][rows].astype(np.int64),
        records["price"][rows] / PRICE_SCALE,
        records["size"][rows].astype(np.int64),
        aggressor,
    )


def _levels(records: Records, levels: int) -> npt.NDArray[np.void]:
    """The level block of each record as an (n, levels) structured view (no copy)."""
    layout = np.dtype(
        {
            "names": ["levels"],
            "formats": [(_LEVEL, (levels,))],
            "offsets": [_HEADER_BYTES],
            "itemsize": records.dtype.itemsize,
        }
    )
    view: npt.NDArray[np.void] = records.view(layout)["levels"]
    return view


def book_columns(records: Records, levels: int) -> BookColumns:
    """Complete book states: rows flagged F_LAST with both sides of the top level quoted."""
    if levels == 0:
        return BookColumns.empty()
    block = _levels(records, levels)
    bid_px, ask_px = block["bid_px"], block["ask_px"]
    keep = ((records["flags"] & F_LAST) != 0) & (bid_px[:, 0] != UNDEF_PRICE) & (ask_px[:, 0] != UNDEF_PRICE)
    rows = np.flatnonzero(keep)
    bid = bid_px[rows]
    ask = ask_px[rows]  # an empty ask already sits at the highest key (UNDEF_PRICE)
    bid_top, ask_top = bid[:, 0] / PRICE_SCALE, ask[:, 0] / PRICE_SCALE
    bid[bid == UNDEF_PRICE] = EMPTY_BID
    return BookColumns(
        records["ts_event"][rows].astype(np.int64),
        bid,
        ask,
        _sizes(block["bid_sz"][rows]),
        _sizes(block["ask_sz"][rows]),
        bid_top,
        ask_top,
    )


def _sizes(raw: npt.NDArray[np.uint32]) -> npt.NDArray[np.int32]:
    """Level sizes as int32 (fast exact order-flow arithmetic); the undefined size counts as 0."""
    sizes = raw.view(np.int32)
    sizes[sizes < 0] = 0  # UNDEF_ORDER_SIZE and anything past 2**31 - 1 contracts
    return sizes
