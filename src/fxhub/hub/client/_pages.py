"""Conditional candle reads: the last answer of each read URL, asked again with its `ETag`.

The hub tags every candles page with a hash of its bytes (docs/hub-api.md), so `If-None-Match` with
the tag of the page a client holds is answered `304 Not Modified`, without a body, exactly while the
page is byte for byte what the hub would send. A new minute, a revised older minute (a backfill) or a
restarted hub on other data changes the bytes, hence the tag, and the full page comes back.

Single-source latest pages from the hub's hot window also carry a series token (`X-Fxhub-Series`).
Sent back as `X-Fxhub-Since`, it gets only the candles written since (`apply_delta` puts them into the
held page), so a poll after a new minute moves one candle instead of the page. Both clients use
`PageCache`; only sending differs.
"""

from __future__ import annotations

import dataclasses
import threading
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import httpx

from fxhub.errors import ValidationError
from fxhub.hub.client._protocol import Request, parse_page
from fxhub.hub.client.errors import HubError
from fxhub.hub.headers import SERIES_HEADER, SINCE_HEADER
from fxhub.model import Candle, parse_utc_timestamp

__all__ = ["DEFAULT_CACHED_PAGES", "MAX_CACHED_CANDLES", "ConditionalRead", "PageCache", "apply_delta"]

DEFAULT_CACHED_PAGES: Final = 64
"""Read URLs whose last answer a client keeps; the least recently used goes first."""
MAX_CACHED_CANDLES: Final = 100_000
"""Candles kept in all pages together (tens of MB at most); a larger answer is not kept."""

_Key = tuple[str, tuple[tuple[str, str], ...]]  # (path, sorted query parameters)


@dataclass(frozen=True, slots=True)
class _Kept:
    etag: str | None
    series: str | None  # the hub's token for the page's series, where it sent one
    candles: tuple[Candle, ...]  # a tuple: no caller can change what the next 304 returns


class PageCache:
    """The last (ETag, candles) of up to `entries` read URLs, least recently used dropped first, and at
    most `max_candles` candles in all. `entries=0` turns conditional reads off. Thread-safe."""

    def __init__(self, entries: int = DEFAULT_CACHED_PAGES, *, max_candles: int = MAX_CACHED_CANDLES) -> None:
        if isinstance(entries, bool) or not isinstance(entries, int) or entries < 0:
            raise ValidationError(
                "cached_pages", entries, "must be a whole number ≥ 0 (0 turns conditional reads off)"
            )
        self._entries = entries
        self._max_candles = max_candles
        self._lock = threading.Lock()
        self._kept: OrderedDict[_Key, _Kept] = OrderedDict()
        self._kept_candles = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._kept)

    @property
    def kept_candles(self) -> int:
        """Candles held in all kept pages."""
        with self._lock:
            return self._kept_candles

    def prepare(self, request: Request) -> ConditionalRead:
        """`request` as it should be sent: with `If-None-Match` when an answer of its URL is kept."""
        key: _Key = (request.path, tuple(sorted(request.params.items())))
        if self._entries == 0:
            return ConditionalRead(self, key, request, None)
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None:
                self._kept.move_to_end(key)
        if kept is None:
            return ConditionalRead(self, key, request, None)
        headers = dict(request.headers)
        if kept.etag is not None:
            headers["If-None-Match"] = kept.etag
        if kept.series is not None:
            headers[SINCE_HEADER] = kept.series
        return ConditionalRead(self, key, dataclasses.replace(request, headers=headers), kept)

    def forget(self, key: _Key) -> None:
        """Drop the URL's kept answer (a full answer replaces it)."""
        with self._lock:
            self._drop(key)

    def keep(self, key: _Key, etag: str | None, series: str | None, candles: list[Candle]) -> None:
        """Keep a 200's candles under its tag and series token, replacing the URL's entry; with
        neither, keep nothing."""
        if self._entries == 0:
            return
        with self._lock:
            self._drop(key)
            if (etag is None and series is None) or len(candles) > self._max_candles:
                return
            self._kept[key] = _Kept(etag, series, tuple(candles))
            self._kept_candles += len(candles)
            while len(self._kept) > self._entries or self._kept_candles > self._max_candles:
                _, oldest = self._kept.popitem(last=False)
                self._kept_candles -= len(oldest.candles)

    def _drop(self, key: _Key) -> None:  # under `_lock`
        dropped = self._kept.pop(key, None)
        if dropped is not None:
            self._kept_candles -= len(dropped.candles)


@dataclass(slots=True)
class ConditionalRead:
    """One read through a `PageCache`: send `request`, hand the answer to `candles` (once)."""

    cache: PageCache
    key: _Key
    request: Request
    kept: _Kept | None  # the answer whose tag `request` carries

    def candles(self, response: httpx.Response, url: str) -> list[Candle]:
        """The candles of a 200 (kept for next time) or, for a 304, those of the page the tag named."""
        if response.status_code == 304:
            if self.kept is None:
                raise HubError(
                    f"the hub at {url} answered {self.request.path} with 304 Not Modified to a request "
                    "that named no page; check that FXHUB_URL points at an fxhub hub"
                )
            series = response.headers.get(SERIES_HEADER)
            if series is not None and series != self.kept.series:  # a token for the page it holds
                self.cache.keep(self.key, self.kept.etag, series, list(self.kept.candles))
            return list(self.kept.candles)
        held = self.kept
        # The kept page is stale: free it before decoding its successor, so that the new candles reuse
        # its memory (holding both made every changed read a few ms slower in bench_fetcher's live rows).
        self.kept = None
        self.cache.forget(self.key)
        candles, delta = parse_page(response, url)
        if delta is not None:
            if held is None:
                raise HubError(
                    f"the hub at {url} answered {self.request.path} with changes to a page this client "
                    "does not hold; check that FXHUB_URL points at an fxhub hub"
                )
            candles = apply_delta(held.candles, candles, delta, url)
        self.cache.keep(self.key, response.headers.get("etag"), response.headers.get(SERIES_HEADER), candles)
        return candles


def apply_delta(
    held: Sequence[Candle], changed: list[Candle], delta: Mapping[str, Any], url: str
) -> list[Candle]:
    """The page a delta answer describes: `held` (one series, oldest first) with `changed` put in by
    minute, cut to start at `delta["first"]`, checked to hold `delta["count"]` candles."""
    by_minute = {candle.timestamp: candle for candle in held}
    appended = not held or all(candle.timestamp > held[-1].timestamp for candle in changed)
    for candle in changed:
        by_minute[candle.timestamp] = candle
    merged = list(by_minute.values())
    if not appended:
        merged.sort(key=_minute)
    first, count = delta.get("first"), delta.get("count")
    if first is not None:
        start = parse_utc_timestamp(first, field="delta.first", where=f"the hub at {url}")
        merged = merged[bisect_left(merged, start, key=_minute) :]
    if len(merged) != count:
        raise HubError(
            f"the hub at {url} sent changes that make a page of {len(merged)} candles where it said "
            f"{count!r}; the page was dropped and the next read fetches it whole"
        )
    return merged


def _minute(candle: Candle) -> Any:
    return candle.timestamp
