"""The newest minutes of every series in memory, so that `latest` — what strategies poll — skips the database.

Limitation: the window sees only the writes that go through it. When several hubs share one PostgreSQL
database, each hub's window misses the other hubs' pushes (until its series is evicted and reloaded);
run such hubs with `window=0`, which turns the cache off and makes every call go to the database.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Final, NamedTuple

from fxhub.hub.store._rows import check_limit, merge_sources, newest
from fxhub.hub.store.base import CandleStore, InventoryRow, UpsertResult
from fxhub.model import Candle, Source

__all__ = [
    "DEFAULT_WINDOW",
    "MAX_CACHED_SERIES",
    "MAX_PAGE_BYTES",
    "EncodedPage",
    "HotWindowStore",
    "SeriesDelta",
    "page_digest",
]

DEFAULT_WINDOW: Final = 2000
"""Candles kept per (symbol, source): a day and a half of minutes."""
MAX_CACHED_SERIES: Final = 1024
"""Series kept in memory at most; the least recently read one is dropped (and reloaded when read)."""
MAX_PAGE_BYTES: Final = 64 * 1024 * 1024
"""Encoded answers `latest_page` keeps at most, in bytes; the least recently read go first."""
_LOAD_ATTEMPTS: Final = 3

_SeriesKey = tuple[str, Source]
_PageKey = tuple[str, Source | None, int]  # (symbol, source or both, limit)
_Stamp = tuple[int, ...]  # the versions of a page's series when it was encoded


def page_digest(body: bytes) -> str:
    """A fingerprint of an encoded page: the first 128 bits of its SHA-256, in hex.

    It depends on the bytes alone, so equal digests mean equal pages whichever process, restart or
    database made them (a server's strong ETag), and any change of a candle changes it.
    """
    return hashlib.sha256(body).hexdigest()[:32]


class EncodedPage(NamedTuple):
    """An encoded answer and its `page_digest`, computed once when the page is encoded."""

    body: bytes
    digest: str

    @classmethod
    def of(cls, body: bytes) -> EncodedPage:
        return cls(body, page_digest(body))


class SeriesDelta(NamedTuple):
    """What changed in a single-source latest page since the series token a client holds.

    `token` names the series as of this answer. `changed` is None when nothing changed (the client's
    page is current), else the page's candles written since the client's token (new minutes and
    revisions), oldest first; `first` and `size` are the page's oldest timestamp and length, so the
    client drops what fell off the page's start. Every other candle of the page is one the client has.
    """

    token: str
    changed: list[Candle] | None
    first: datetime | None
    size: int


def _timestamp(candle: Candle) -> datetime:
    return candle.timestamp


class HotWindowStore:
    """A `CandleStore` that serves `latest(limit ≤ window)` from memory and delegates everything else.

    A series' window is its newest `window` candles, oldest first, loaded from `inner.latest` the first
    time the series is read and kept so by every `upsert` through this store: new minutes enter,
    revisions replace, minutes older than a full window are ignored (they cannot displace newer ones).
    A window shorter than `window` therefore holds its whole series, so a window answers any `latest`
    with `limit ≤ window` exactly, and windows of several sources merge exactly. Writes through this
    store are serialised, so windows follow the database's commit order. `window=0` turns the cache off.
    Thread-safe.
    """

    def __init__(self, inner: CandleStore, *, window: int = DEFAULT_WINDOW) -> None:
        if isinstance(window, bool) or not isinstance(window, int) or window < 0:
            raise ValueError(f"`window` must be a whole number ≥ 0 (0 turns the cache off), was {window!r}")
        self._inner = inner
        self._window = window
        self._lock = threading.Lock()  # guards the windows, versions and pages below; never held during I/O
        self._write_lock = threading.Lock()  # one upsert at a time, so windows apply in commit order
        self._series: OrderedDict[_SeriesKey, list[Candle]] = OrderedDict()
        # Bumped after every committed write to a series, and when its window loads: a load that raced
        # a write is not kept, and a page encoded from other contents of the series is not served.
        self._versions: dict[_SeriesKey, int] = {}
        self._pages: OrderedDict[_PageKey, tuple[_Stamp, EncodedPage]] = OrderedDict()  # under `_lock`
        self._kept_bytes = 0
        # Series tokens ("<boot>.<version>") let a client ask for what changed since the page it holds
        # (`latest_delta`). `_boot` differs per store, so a restarted hub's tokens never match old ones;
        # `_loaded_at` is the version a series' window loaded at (every candle in it counts as written
        # then), `_written_at` the version each candle written since was last written at.
        self._boot = secrets.token_hex(6)
        self._loaded_at: dict[_SeriesKey, int] = {}
        self._written_at: dict[_SeriesKey, dict[datetime, int]] = {}

    @property
    def inner(self) -> CandleStore:
        """The store behind the cache."""
        return self._inner

    @property
    def window(self) -> int:
        """Candles kept per series; 0 when the cache is off."""
        return self._window

    def __repr__(self) -> str:
        return f"HotWindowStore({self._inner!r}, window={self._window})"

    def upsert(self, candles: Sequence[Candle]) -> UpsertResult:
        """Write through to the inner store, then apply what changed to the loaded windows."""
        if self._window == 0:
            return self._inner.upsert(candles)
        with self._write_lock:
            try:
                result = self._inner.upsert(candles)
            except BaseException:
                # A failed write stored nothing, unless it failed after the commit (a lost reply);
                # forgetting the series' windows is right in both cases.
                self._invalidate((candle.symbol, candle.source) for candle in candles)
                raise
            with self._lock:
                for candle in result.changed:
                    key = (candle.symbol, candle.source)
                    version = self._versions[key] = self._versions.get(key, 0) + 1
                    loaded = self._series.get(key)
                    if loaded is not None:
                        self._apply(loaded, candle, self._written_at[key], version)
        return result

    def latest(self, symbol: str, limit: int, source: Source | None = None) -> list[Candle]:
        """The newest `limit` candles from memory when `limit ≤ window`, else from the inner store."""
        check_limit(limit)
        if self._window == 0 or limit > self._window:
            return self._inner.latest(symbol, limit, source)
        if limit == 0:
            return []
        if source is not None:
            return self._newest(symbol, source, limit)
        # Each window holds its whole series or its newest `window` ≥ `limit`: their merge has the answer.
        return newest(merge_sources(self._newest(symbol, s, limit) for s in Source), limit)

    def latest_in_memory(self, symbol: str, limit: int, source: Source | None = None) -> list[Candle] | None:
        """`latest` when memory answers it at once, else None: never reads the inner store, never waits.

        None when the cache is off, `limit` is outside 1..window, a needed window is not loaded yet, or
        another thread holds the lock (a write applying itself); the caller then uses `latest`. The
        answer is the same `latest` would give, so a server may call this on its event loop.
        """
        snapshot = self._snapshot(symbol, limit, source, page=False)
        if snapshot is None:
            return None
        return self._answer(snapshot[1], limit, source)

    def latest_page(
        self, symbol: str, limit: int, source: Source | None, encode: Callable[[list[Candle]], bytes]
    ) -> EncodedPage | None:
        """`encode(latest_in_memory(...))` with its digest, kept and served again until a write touches
        its series.

        What a polling reader costs then is one dict lookup: its answer is encoded (and digested) once
        per change of the series, not once per read. None exactly when `latest_in_memory` would be
        None. A page is served only while the versions of its series are those it was encoded from,
        and every committed write bumps them before `upsert` returns, so a read after a write sees that
        write. Pages are keyed by (symbol, source, limit): `encode` must depend on these and the
        candles only.
        """
        snapshot = self._snapshot(symbol, limit, source, page=True)
        if snapshot is None:
            return None
        stamp, windows, page = snapshot
        if page is not None:
            return page
        encoded = EncodedPage.of(encode(self._answer(windows, limit, source)))
        if self._lock.acquire(blocking=False):  # else another thread writes: keep nothing, wait for none
            try:
                self._keep_page((symbol, source, limit), stamp, encoded)
            finally:
                self._lock.release()
        return encoded

    def _snapshot(
        self, symbol: str, limit: int, source: Source | None, *, page: bool
    ) -> tuple[_Stamp, list[list[Candle]], EncodedPage | None] | None:
        """Taken under the lock, never waiting for it: the versions of the series, then either their kept
        page (`page` asked and current) or the newest `limit` of each window (copies); None if memory
        cannot answer at once."""
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= self._window:
            return None
        sources = tuple(Source) if source is None else (source,)
        if not self._lock.acquire(blocking=False):
            return None
        try:
            windows: list[list[Candle]] = []
            for s in sources:
                loaded = self._series.get((symbol, s))
                if loaded is None:
                    return None
                self._series.move_to_end((symbol, s))
                windows.append(loaded)
            stamp = tuple(self._versions.get((symbol, s), 0) for s in sources)
            kept = self._pages.get((symbol, source, limit)) if page else None
            if kept is not None and kept[0] == stamp:
                self._pages.move_to_end((symbol, source, limit))
                return stamp, [], kept[1]
            return stamp, [newest(loaded, limit) for loaded in windows], None
        finally:
            self._lock.release()

    @staticmethod
    def _answer(windows: list[list[Candle]], limit: int, source: Source | None) -> list[Candle]:
        if source is not None:
            return windows[0]
        return newest(merge_sources(windows), limit)

    def _keep_page(self, key: _PageKey, stamp: _Stamp, page: EncodedPage) -> None:
        """Keep `page` for `key` if `stamp` is still current (no write since it was taken); under `_lock`."""
        symbol, source, _ = key
        sources = tuple(Source) if source is None else (source,)
        if stamp != tuple(self._versions.get((symbol, s), 0) for s in sources):
            return
        replaced = self._pages.pop(key, None)
        if replaced is not None:
            self._kept_bytes -= len(replaced[1].body)
        self._pages[key] = (stamp, page)
        self._kept_bytes += len(page.body)
        while self._kept_bytes > MAX_PAGE_BYTES and self._pages:
            _, (_, dropped) = self._pages.popitem(last=False)
            self._kept_bytes -= len(dropped.body)

    def range(
        self, symbol: str, start: datetime, end: datetime, source: Source | None = None
    ) -> list[Candle]:
        """Delegated to the inner store."""
        return self._inner.range(symbol, start, end, source)

    def inventory(self) -> list[InventoryRow]:
        """Delegated to the inner store."""
        return self._inner.inventory()

    def count(self) -> int:
        """Delegated to the inner store."""
        return self._inner.count()

    def close(self) -> None:
        """Drop the windows and close the inner store."""
        with self._lock:
            self._series.clear()
            self._loaded_at.clear()
            self._written_at.clear()
            self._pages.clear()
            self._kept_bytes = 0
        self._inner.close()

    def _newest(self, symbol: str, source: Source, limit: int) -> list[Candle]:
        """The newest `limit` candles of one series, loading its window first if needed."""
        key = (symbol, source)
        for _ in range(_LOAD_ATTEMPTS):
            with self._lock:
                loaded = self._series.get(key)
                if loaded is not None:
                    self._series.move_to_end(key)
                    return newest(loaded, limit)
                version = self._versions.get(key, 0)
            candles = self._inner.latest(symbol, self._window, source)
            with self._lock:
                loaded = self._series.get(key)
                if loaded is None and self._versions.get(key, 0) == version:
                    # No write committed since `version` was read, so `candles` is current; a write that
                    # commits from here on finds the window and applies itself.
                    loaded = list(candles)
                    self._series[key] = loaded
                    self._versions[key] = version + 1  # pages from an earlier window of it are void
                    self._loaded_at[key] = version + 1
                    self._written_at[key] = {}
                    while len(self._series) > MAX_CACHED_SERIES:
                        self._forget(next(iter(self._series)))
                if loaded is not None:
                    self._series.move_to_end(key)
                    return newest(loaded, limit)
            # A write to this series committed while we read: what we read may miss it; read again.
        return self._inner.latest(symbol, limit, source)

    def _apply(
        self, candles: list[Candle], candle: Candle, written_at: dict[datetime, int], version: int
    ) -> None:
        """Put one committed candle into a window, keeping it the newest `window` of its series."""
        at = bisect_left(candles, candle.timestamp, key=_timestamp)
        if at < len(candles) and candles[at].timestamp == candle.timestamp:
            candles[at] = candle  # a revision
        elif at > 0 or len(candles) < self._window:  # else older than a full window: not among the newest
            candles.insert(at, candle)
            if len(candles) > self._window:
                written_at.pop(candles[0].timestamp, None)
                del candles[0]
        else:
            return
        written_at[candle.timestamp] = version

    def _forget(self, key: _SeriesKey) -> None:
        """Drop a series' window and what `latest_delta` knows of it; under `_lock`."""
        self._series.pop(key, None)
        self._loaded_at.pop(key, None)
        self._written_at.pop(key, None)

    def _invalidate(self, keys: Iterable[_SeriesKey]) -> None:
        with self._lock:
            for key in set(keys):
                self._versions[key] = self._versions.get(key, 0) + 1
                self._forget(key)

    # --- what changed since a client's page ----------------------------------------------------------

    def series_token(self, symbol: str, source: Source) -> str | None:
        """The token naming the series' current contents, or None if its window is not loaded (or the
        lock is busy). Take it *before* reading the page it goes with: a write in between then only
        makes the client's next delta repeat a candle it already has."""
        if not self._lock.acquire(blocking=False):
            return None
        try:
            key = (symbol, source)
            return f"{self._boot}.{self._versions[key]}" if key in self._series else None
        finally:
            self._lock.release()

    def latest_delta(self, symbol: str, limit: int, source: Source, since: str) -> SeriesDelta | None:
        """What changed in `latest(symbol, limit, source)` since the page named by token `since`.

        None when memory cannot tell at once (window not loaded, lock busy, `limit` outside 1..window)
        or `since` is not a token of this series' current window (another hub or store, an evicted or
        reloaded window, garbage): the caller then sends the whole page.
        """
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= self._window:
            return None
        boot, _, version_text = since.partition(".")
        if boot != self._boot or not version_text.isdigit():
            return None
        since_version = int(version_text)
        key = (symbol, source)
        if not self._lock.acquire(blocking=False):
            return None
        try:
            loaded = self._series.get(key)
            version = self._versions.get(key, 0)
            if loaded is None or not self._loaded_at[key] <= since_version <= version:
                return None
            token = f"{self._boot}.{version}"
            page = newest(loaded, limit)
            first = page[0].timestamp if page else None
            if since_version == version:
                return SeriesDelta(token, None, first, len(page))
            written_at, loaded_at = self._written_at[key], self._loaded_at[key]
            changed = [c for c in page if written_at.get(c.timestamp, loaded_at) > since_version]
            return SeriesDelta(token, changed, first, len(page))
        finally:
            self._lock.release()
