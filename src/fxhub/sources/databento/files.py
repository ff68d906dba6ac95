"""Replaying DBN files (MBP-10, MBP-1, TBBO or trades; `.dbn` or `.dbn.zst`) through the bar router.

The vectorised path: `DBNStore.to_ndarray(count=N)` decodes chunks that numpy turns into bar inputs, so
memory stays bounded on a file too large to load whole. Trades are counted once: a file whose symbols a richer
schema already covers (MBP-10 > MBP-1 > TBBO > trades, all carrying the same `T` events) is skipped.
A corrupt or truncated file raises `DataFormatError` naming the file and how far it got; the candles
built before the damage are kept (they were already handed on).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import databento as db
import numpy as np

from fxhub.errors import DataFormatError
from fxhub.sources.databento.messages import Records
from fxhub.sources.databento.router import DatabentoBars
from fxhub.sources.pacing import Pacer

__all__ = ["BOOK_SCHEMAS", "CHUNK_RECORDS", "DbnFile", "open_dbn_files", "replay_files"]

logger = logging.getLogger(__name__)

# About 3.5 MiB of MBP-10 records: a chunk and the arrays made from it stay in the CPU caches. Measured
# on 1M records (bench_databento): 250,000-record chunks decode at half the speed and make the whole
# path 1.7x slower; below about 5,000 records the per-chunk Python work starts to show.
CHUNK_RECORDS: Final = 10_000
PACED_CHUNK_RECORDS: Final = 2_000
# Richest first: the first of these a file holds is the one read from it.
BOOK_SCHEMAS: Final = ("mbp-10", "mbp-1", "tbbo")
BAR_SCHEMAS: Final = (*BOOK_SCHEMAS, "trades")


@dataclass(frozen=True, slots=True)
class DbnFile:
    """One DBN file and the schema fxhub reads from it."""

    path: Path
    store: Any  # databento.DBNStore (the client ships no type stubs)
    schema: str
    symbols: frozenset[str]

    @property
    def start_ns(self) -> int:
        return int(self.store.metadata.start)


def _open(path: Path) -> DbnFile:
    if not path.is_file():
        raise DataFormatError(f"{path}: no such DBN file")
    try:
        store = db.DBNStore.from_file(path)
        metadata = store.metadata
    except Exception as exc:  # the decoder raises several types for a damaged header
        raise DataFormatError(
            f"{path}: not a readable DBN file ({exc}); expected Databento Binary Encoding, "
            f"optionally zstd-compressed (.dbn.zst)"
        ) from exc
    schema = str(metadata.schema) if metadata.schema is not None else _richest_schema_in(store, path)
    if schema not in BAR_SCHEMAS:
        raise DataFormatError(
            f"{path}: schema {schema!r} has no trades or book to build bars from; "
            f"expected one of {', '.join(BAR_SCHEMAS)}"
        )
    return DbnFile(path, store, schema, frozenset(str(s) for s in metadata.symbols))


def _richest_schema_in(store: Any, path: Path) -> str:
    """A mixed-schema file (a recorded live session): the richest bar schema it holds."""
    for schema in BAR_SCHEMAS:
        if len(store.to_ndarray(schema=schema)):
            return schema
    raise DataFormatError(f"{path}: holds no MBP-10, MBP-1, TBBO or trades records to build bars from")


def open_dbn_files(paths: Sequence[Path]) -> list[DbnFile]:
    """Open every file (failing fast on a bad one), oldest first; a file whose symbols a richer schema
    already covers is dropped, so no trade is counted twice."""
    files = sorted((_open(Path(p)) for p in paths), key=lambda f: (f.start_ns, str(f.path)))
    kept = []
    for f in files:
        rank = BAR_SCHEMAS.index(f.schema)
        richer = set().union(*(g.symbols for g in files if BAR_SCHEMAS.index(g.schema) < rank))
        if f.symbols and f.symbols <= richer:
            logger.info(
                "%s: skipped, its %s records are already in richer files for %s",
                f.path,
                f.schema,
                ", ".join(sorted(f.symbols)),
            )
            continue
        kept.append(f)
    return kept


def _chunks(f: DbnFile, count: int) -> Iterable[Records]:
    records = 0

    def damaged(reason: object) -> DataFormatError:
        return DataFormatError(
            f"{f.path}: damaged after {records:,} {f.schema} records ({reason}); the candles built from "
            f"those records were kept. Re-download the file or pass the undamaged part."
        )

    try:
        mixed = f.store.metadata.schema is None
        chunks = iter(
            f.store.to_ndarray(schema=f.schema, count=count) if mixed else f.store.to_ndarray(count=count)
        )
        while True:
            # databento only warns about a truncated file; here that is an error, whatever the filters.
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                chunk = next(chunks, None)
            truncated = [w for w in caught if "truncated" in str(w.message).lower()]
            if chunk is not None and len(chunk):
                records += len(chunk)
                yield chunk
            if truncated:
                raise damaged(truncated[0].message)
            if chunk is None:
                return
    except DataFormatError:
        raise
    except Exception as exc:
        raise damaged(exc) from exc


def _register_symbols(bars: DatabentoBars, f: DbnFile) -> None:
    bars.symbols.add_metadata_mappings(f.store.metadata.mappings)
    if f.store.metadata.schema is None:  # live recordings carry SymbolMappingMsg records instead
        for record in f.store:
            if type(record).__name__ == "SymbolMappingMsg":
                bars.symbols.add(record.instrument_id, record.stype_out_symbol)


def replay_files(files: Sequence[DbnFile], bars: DatabentoBars, *, pacer: Pacer | None = None) -> int:
    """Feed every file through `bars`, as fast as possible or as the pacer allows. Returns records read.

    Files are read one after another (oldest first); the builders keep their state across files, so
    consecutive files of one instrument join seamlessly.
    """
    total = 0
    for f in files:
        _register_symbols(bars, f)
        paced = pacer is not None and pacer.speed
        for chunk in _chunks(f, PACED_CHUNK_RECORDS if paced else CHUNK_RECORDS):
            if pacer is not None:
                pacer.wait_until(int(chunk["ts_event"][0]))
            bars.add_records(chunk)
            bars.advance(int(np.max(chunk["ts_event"])))
            total += len(chunk)
    bars.flush()
    return total
