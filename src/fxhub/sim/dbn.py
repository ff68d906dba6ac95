"""Writing real DBN files (GLBX.MDP3 MBP-10 and trades) from the simulator's record columns.

Metadata comes from `databento_dbn.Metadata`; records are packed with the record dtypes that
`databento_dbn` publishes (`MBP10Msg._dtypes`, `TradeMsg._dtypes`), so the bytes are exactly what the
databento client decodes. Files are zstd-compressed (`.dbn.zst`) as Databento delivers them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import IO, Final, cast

import databento_dbn as dbn
import numpy as np
import numpy.typing as npt
import zstandard
from databento_dbn.metadata import MappingInterval

from fxhub.sim.cme_book import LEVELS, BookRecords

__all__ = [
    "GLBX_DATASET",
    "GLBX_PUBLISHER_ID",
    "MBP10_DTYPE",
    "TRADE_DTYPE",
    "ContractMapping",
    "DbnWriter",
    "pack_mbp10",
    "trades_from_mbp10",
]

GLBX_DATASET: Final = "GLBX.MDP3"
GLBX_PUBLISHER_ID: Final = 1  # GLBX.MDP3 on Globex
MBP10_DTYPE: Final = np.dtype(dbn.MBP10Msg._dtypes)
TRADE_DTYPE: Final = np.dtype(dbn.TradeMsg._dtypes)
_RTYPE_MBP10: Final = 0x0A
_RTYPE_MBP0: Final = 0x00  # the trades schema
ZSTD_LEVEL: Final = 3


@dataclass(slots=True)
class _Interval:
    start_date: date
    end_date: date
    symbol: str


@dataclass(slots=True)
class _Mapping:
    raw_symbol: str
    intervals: Sequence[MappingInterval]


@dataclass(frozen=True, slots=True)
class ContractMapping:
    """A contract that appears in a file: its raw symbol, instrument id and the dates it is mapped."""

    raw_symbol: str
    instrument_id: int
    start_date: date
    end_date: date  # exclusive, as Databento's mapping intervals


def _metadata(schema: dbn.Schema, start_ns: int, end_ns: int, contracts: list[ContractMapping]) -> bytes:
    mappings = [
        _Mapping(c.raw_symbol, [_Interval(c.start_date, c.end_date, str(c.instrument_id))]) for c in contracts
    ]
    metadata = dbn.Metadata(
        dataset=GLBX_DATASET,
        start=start_ns,
        stype_in=cast(dbn.SType, dbn.SType.RAW_SYMBOL),  # the stubs type members as str
        stype_out=cast(dbn.SType, dbn.SType.INSTRUMENT_ID),
        schema=schema,
        symbols=sorted({c.raw_symbol for c in contracts}),
        partial=[],
        not_found=[],
        mappings=mappings,
        end=end_ns,
        ts_out=False,
    )
    return bytes(metadata)


class DbnWriter:
    """A zstd-compressed DBN file written chunk by chunk: metadata first, then record arrays."""

    def __init__(
        self, path: Path, schema: dbn.Schema, start_ns: int, end_ns: int, contracts: list[ContractMapping]
    ) -> None:
        self.path = path
        self.records = 0
        self._file: IO[bytes] = open(path, "wb")  # noqa: SIM115 - closed in close()
        compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL, threads=0)
        self._stream = compressor.stream_writer(self._file, closefd=False)
        self._stream.write(_metadata(schema, start_ns, end_ns, contracts))

    def write(self, records: npt.NDArray[np.void]) -> None:
        self._stream.write(records.tobytes())
        self.records += len(records)

    def close(self) -> None:
        self._stream.close()  # type: ignore[no-untyped-call]
        self._file.close()

    def __enter__(self) -> DbnWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def pack_mbp10(records: BookRecords, tick_size_nanos: int) -> npt.NDArray[np.void]:
    """Pack collected columns into MBP-10 records; prices become 1e-9 fixed point on the tick grid."""
    n = len(records)
    out = np.zeros(n, dtype=MBP10_DTYPE)
    out["length"] = MBP10_DTYPE.itemsize // 4
    out["rtype"] = _RTYPE_MBP10
    out["publisher_id"] = GLBX_PUBLISHER_ID
    out["instrument_id"] = records.instrument_id
    ts_event = np.asarray(records.ts_event, dtype=np.uint64)
    delay = np.asarray(records.ts_recv_delay, dtype=np.uint64)
    out["ts_event"] = ts_event
    out["ts_recv"] = ts_event + delay
    out["ts_in_delta"] = (delay // 2).astype(np.int32)
    out["price"] = np.asarray(records.price_ticks, dtype=np.int64) * tick_size_nanos
    out["size"] = records.size
    out["action"] = np.asarray(records.action, dtype="S1")
    out["side"] = np.asarray(records.side, dtype="S1")
    out["flags"] = records.flags
    out["depth"] = records.depth
    out["sequence"] = records.sequence
    best_bid = np.asarray(records.best_bid_ticks, dtype=np.int64)
    best_ask = best_bid + np.asarray(records.spread_ticks, dtype=np.int64)
    levels = np.asarray(records.levels, dtype=np.uint32).reshape(n, 4, LEVELS)
    for i in range(LEVELS):
        out[f"bid_px_{i:02d}"] = (best_bid - i) * tick_size_nanos
        out[f"ask_px_{i:02d}"] = (best_ask + i) * tick_size_nanos
        out[f"bid_sz_{i:02d}"] = levels[:, 0, i]
        out[f"ask_sz_{i:02d}"] = levels[:, 1, i]
        out[f"bid_ct_{i:02d}"] = levels[:, 2, i]
        out[f"ask_ct_{i:02d}"] = levels[:, 3, i]
    return out


def trades_from_mbp10(mbp10: npt.NDArray[np.void]) -> npt.NDArray[np.void]:
    """The trades schema carries the same trade events as the `T` records of MBP-10."""
    trades = mbp10[mbp10["action"] == b"T"]
    out = np.zeros(len(trades), dtype=TRADE_DTYPE)
    for name in TRADE_DTYPE.names or ():
        out[name] = trades[name]
    out["length"] = TRADE_DTYPE.itemsize // 4
    out["rtype"] = _RTYPE_MBP0
    return out
