"""Historical CME data from `databento.Historical`, kept on disk so a rerun costs nothing.

Two requests per range, both cached as DBN files under the cache folder:

1. the `definition` schema for the parent symbols (6E.FUT …), which names every contract of the product
   and its instrument class; outright futures (class F) are kept, calendar spreads (class S) dropped;
2. the data schema (MBP-10 by default) for those outright contracts by raw symbol, so the file's
   metadata maps every instrument id to its contract.

The data file then replays through the same path as any DBN file. A cached file is reused as it is;
delete it to download again. Requests cost money on a Databento account.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import databento as db

from fxhub.errors import ConfigError, FxhubError
from fxhub.settings import Secret
from fxhub.sources.databento.symbology import outright_root

__all__ = ["HistoricalRequest", "download_range"]

logger = logging.getLogger(__name__)

FUTURE_CLASS: Final = b"F"


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoricalRequest:
    """One range of one dataset and schema for some parent symbols."""

    start: datetime
    end: datetime
    parents: tuple[str, ...] = ("6E.FUT", "6B.FUT", "6J.FUT")
    dataset: str = "GLBX.MDP3"
    schema: str = "mbp-10"

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            if getattr(self, name).tzinfo is None:
                raise ConfigError(
                    f"--historical {name} must carry a zone (e.g. 2025-11-04T13:00:00Z), "
                    f"was {getattr(self, name).isoformat()!r}"
                )
        if self.end <= self.start:
            raise ConfigError(
                f"--historical END must be after START, was {self.start:%Y-%m-%dT%H:%MZ} .. "
                f"{self.end:%Y-%m-%dT%H:%MZ}"
            )

    def cache_name(self, schema: str, symbols: Sequence[str]) -> str:
        digest = hashlib.sha256(",".join(sorted(symbols)).encode()).hexdigest()[:10]
        span = f"{self.start.astimezone(UTC):%Y%m%dT%H%M}-{self.end.astimezone(UTC):%Y%m%dT%H%M}"
        return f"{self.dataset}.{schema}.{span}.{digest}.dbn.zst"


def _get_range(
    client: Any, request: HistoricalRequest, *, schema: str, symbols: Sequence[str], stype_in: str, path: Path
) -> Path:
    if path.is_file() and path.stat().st_size > 0:
        logger.info("using the cached %s (no request, no cost)", path)
        return path
    partial = path.with_name(path.name + ".part")
    logger.info(
        "requesting %s %s for %s from Databento (billed to the account)",
        request.dataset,
        schema,
        ", ".join(symbols),
    )
    try:
        client.timeseries.get_range(
            dataset=request.dataset,
            schema=schema,
            symbols=list(symbols),
            stype_in=stype_in,
            start=request.start.isoformat(),
            end=request.end.isoformat(),
            path=partial,
        )
    except db.BentoError as exc:
        raise FxhubError(
            f"Databento's Historical API refused {schema} for {', '.join(symbols)}: {exc}"
        ) from exc
    partial.replace(path)
    return path


def outright_contracts(definitions: Path) -> list[str]:
    """Raw symbols of the outright futures in a definition file (calendar spreads left out)."""
    records = db.DBNStore.from_file(definitions).to_ndarray()
    outrights = {
        raw.decode() if isinstance(raw, bytes) else str(raw)
        for raw, kind in zip(records["raw_symbol"], records["instrument_class"], strict=True)
        if kind == FUTURE_CLASS
    }
    return sorted(s for s in outrights if outright_root(s) is not None)


def download_range(request: HistoricalRequest, key: Secret, cache_dir: Path, *, client: Any = None) -> Path:
    """The DBN data file for `request`, from the cache or downloaded into it."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    historical = client if client is not None else db.Historical(key=key.reveal())
    definitions = _get_range(
        historical,
        request,
        schema="definition",
        symbols=request.parents,
        stype_in="parent",
        path=cache_dir / request.cache_name("definition", request.parents),
    )
    contracts = outright_contracts(definitions)
    if not contracts:
        raise FxhubError(
            f"Databento lists no outright futures for {', '.join(request.parents)} between "
            f"{request.start:%Y-%m-%d %H:%M} and {request.end:%Y-%m-%d %H:%M} UTC"
        )
    return _get_range(
        historical,
        request,
        schema=request.schema,
        symbols=contracts,
        stype_in="raw_symbol",
        path=cache_dir / request.cache_name(request.schema, contracts),
    )
