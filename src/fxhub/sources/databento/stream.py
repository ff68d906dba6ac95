"""The streaming path: DBN records one by one (a live session, or iterating a file) into the bar router.

Each record's raw bytes are buffered per schema until a record of a later minute arrives, then the
buffer goes to the router as one small array: the same builders and the same per-minute arithmetic as
the file path, so both give identical candles. Memory holds at most one minute of records.

Trades are counted once: a trade seen in one schema (a `T` record of a book schema, or a trades record)
is dropped when its twin arrives in another, by (instrument_id, ts_event, sequence), whichever comes
first; and once an instrument arrives in a richer book schema, its records in poorer schemas (MBP-1
beside MBP-10, trades beside either) are dropped.
"""

from __future__ import annotations

import logging
from typing import Any, Final

import databento_dbn as dbn
import numpy as np

from fxhub.core.bars import NS_PER_MINUTE
from fxhub.sources.databento.router import DatabentoBars

__all__ = ["StreamingBars"]

logger = logging.getLogger(__name__)

# Richest first, as in the file path.
_BAR_RECORDS: Final[dict[type, np.dtype[Any]]] = {
    dbn.MBP10Msg: np.dtype(dbn.MBP10Msg._dtypes),
    dbn.MBP1Msg: np.dtype(dbn.MBP1Msg._dtypes),
    dbn.TradeMsg: np.dtype(dbn.TradeMsg._dtypes),
}
_RICHEST: Final = dbn.MBP10Msg


class StreamingBars:
    """Feed `on_record` with every record of a stream; call `advance` on a timer while it is quiet."""

    def __init__(self, bars: DatabentoBars) -> None:
        self.bars = bars
        self._buffers: dict[type, list[bytes]] = {kind: [] for kind in _BAR_RECORDS}
        self._minute_end_ns = -1  # end of the minute being buffered; -1: none yet
        self._covered: dict[type, set[int]] = {kind: set() for kind in _BAR_RECORDS}  # ids seen per schema
        self._trades_seen: dict[int, set[tuple[int, int, int]]] = {}  # minute → trade identities
        self._poorer_seen = False  # a schema poorer than MBP-10 has appeared: trades need de-duplication
        self.records = 0
        self.duplicates_dropped = 0
        self.heartbeats = 0

    def on_record(self, record: Any) -> None:
        """One DBN record object of any type (the client's record classes ship without type hints)."""
        # Called for every record: the common case (a record of the current minute, no poorer schema
        # in the stream) does no division and calls no helper.
        kind = type(record)
        buffer = self._buffers.get(kind)
        if buffer is None:
            self._on_other(kind, record)
            return
        self.records += 1
        ts_event = record.ts_event
        if ts_event >= self._minute_end_ns:  # a later minute: the buffered one is complete
            self._release()
            self._minute_end_ns = (ts_event // NS_PER_MINUTE + 1) * NS_PER_MINUTE
        instrument_id = record.instrument_id
        if kind is not _RICHEST:
            if self._richer_covers(kind, instrument_id):
                self.duplicates_dropped += 1
                return
            self._poorer_seen = True
        # A trade's twin can only be pending when a poorer schema is in the stream at all.
        if (
            self._poorer_seen
            and (kind is dbn.TradeMsg or record.action == "T")
            and self._seen_trade(instrument_id, ts_event, record.sequence, ts_event // NS_PER_MINUTE)
        ):
            self.duplicates_dropped += 1
            return
        self._covered[kind].add(instrument_id)
        buffer.append(bytes(record))

    def _on_other(self, kind: type, record: Any) -> None:
        if kind is dbn.SymbolMappingMsg:
            self.bars.symbols.add(record.instrument_id, record.stype_out_symbol)
        elif kind is dbn.SystemMsg:
            self.heartbeats += 1
        elif kind is dbn.ErrorMsg:
            logger.error("gateway error: %s", record.err)

    def _seen_trade(self, instrument_id: int, ts_event: int, sequence: int, minute: int) -> bool:
        """Remember a trade's identity; True when it was seen before. Keeps the last two minutes only."""
        key = (instrument_id, ts_event, sequence)
        for seen in self._trades_seen.values():
            if key in seen:
                return True
        self._trades_seen.setdefault(minute, set()).add(key)
        for old in [m for m in self._trades_seen if m < minute - 1]:
            del self._trades_seen[old]
        return False

    def _richer_covers(self, kind: type, instrument_id: int) -> bool:
        for richer in _BAR_RECORDS:
            if richer is kind:
                return False
            if instrument_id in self._covered[richer]:
                return True
        return False

    def advance(self, now_ns: int) -> None:
        """Nothing arrived lately: hand on what is buffered and let the builders close quiet minutes."""
        self._release()
        self.bars.advance(now_ns)

    def flush(self) -> None:
        """End of stream."""
        self._release()
        self.bars.flush()

    def _release(self) -> None:
        for kind, buffer in self._buffers.items():
            if buffer:
                records = np.frombuffer(b"".join(buffer), dtype=_BAR_RECORDS[kind])
                buffer.clear()
                self.bars.add_records(records)
