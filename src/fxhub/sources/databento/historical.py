"""Historical CME data from `databento.Historical`, kept on disk so a rerun costs nothing.

Two requests per range, both cached as DBN files under the cache folder:

1. the `definition` schema for the parent symbols (6E.FUT …), which names every contract of the product
   and its instrument class; outright futures (class F) are kept, calendar spreads (class S) dropped.
   GLBX publishes its definitions as a snapshot at 00:00 UTC each day, so this request starts at the
   midnight before START (a range inside one day would otherwise list nothing);
2. the data schema (MBP-10 by default) for those outright contracts by raw symbol, so the file's
   metadata maps every instrument id to its contract.

The data file then replays through the same path as any DBN file. A cached file is reused as it is;
delete it to download again. Requests cost money on a Databento account.

`gateway` points the client at another Historical API (a relay, the tests' loopback stand-in); the
databento client speaks HTTPS only, so it must be an ``https://`` URL.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

import databento as db

from fxhub.errors import ConfigError, FxhubError
from fxhub.settings import Secret
from fxhub.sources.databento.symbology import outright_root

__all__ = ["DEFAULT_GATEWAY", "HistoricalRequest", "download_range", "historical_client"]

logger = logging.getLogger(__name__)

FUTURE_CLASS: Final = b"F"
DEFAULT_GATEWAY: Final = "https://hist.databento.com"


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

    @property
    def definitions_start(self) -> datetime:
        """The midnight (UTC) before `start`: when that day's definition snapshot was published."""
        return datetime.combine(self.start.astimezone(UTC).date(), time(0), UTC)

    def cache_name(self, schema: str, symbols: Sequence[str], *, start: datetime | None = None) -> str:
        digest = hashlib.sha256(",".join(sorted(symbols)).encode()).hexdigest()[:10]
        first = (start or self.start).astimezone(UTC)
        span = f"{first:%Y%m%dT%H%M}-{self.end.astimezone(UTC):%Y%m%dT%H%M}"
        return f"{self.dataset}.{schema}.{span}.{digest}.dbn.zst"


def _get_range(
    client: Any,
    request: HistoricalRequest,
    *,
    schema: str,
    symbols: Sequence[str],
    stype_in: str,
    start: datetime,
    path: Path,
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
            start=start.isoformat(),
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


def historical_client(key: Secret, gateway: str | None = None) -> Any:
    """A `databento.Historical` client for `key`, at Databento's gateway unless `gateway` names another."""
    if gateway is None:
        return db.Historical(key=key.reveal())
    parts = urlsplit(gateway)
    if parts.scheme != "https" or not parts.netloc or parts.path not in ("", "/") or parts.query:
        raise ConfigError(
            f"the Historical API gateway must be an https:// URL such as {DEFAULT_GATEWAY} (the databento "
            f"client speaks HTTPS only), was {gateway!r}"
        )
    return db.Historical(key=key.reveal(), gateway=f"https://{parts.netloc}")


def download_range(
    request: HistoricalRequest,
    key: Secret,
    cache_dir: Path,
    *,
    client: Any = None,
    gateway: str | None = None,
) -> Path:
    """The DBN data file for `request`, from the cache or downloaded into it.

    `client` replaces the `databento.Historical` client; otherwise one is made for `key` at `gateway`
    (Databento's own by default).
    """
    cache_dir.mkdir(parents=True, exist_ok=True)
    historical = client if client is not None else historical_client(key, gateway)
    definitions = _get_range(
        historical,
        request,
        schema="definition",
        symbols=request.parents,
        stype_in="parent",
        start=request.definitions_start,
        path=cache_dir / request.cache_name("definition", request.parents, start=request.definitions_start),
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
        start=request.start,
        path=cache_dir / request.cache_name(request.schema, contracts),
    )
