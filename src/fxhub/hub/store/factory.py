"""Turn a store URL (`FXHUB_STORE`, `--store`) into a ready `CandleStore`."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Final

import platformdirs

from fxhub.errors import ConfigError
from fxhub.hub.store.base import CandleStore
from fxhub.hub.store.hot import DEFAULT_WINDOW, HotWindowStore
from fxhub.hub.store.postgres import PostgresStore
from fxhub.hub.store.sqlite import SqliteStore
from fxhub.settings import mask_store_url

__all__ = ["ACCEPTED_STORE_FORMS", "DEFAULT_STORE_FILE", "open_store"]

logger = logging.getLogger(__name__)

DEFAULT_STORE_FILE: Final = "hub.sqlite3"
"""The SQLite file in the user data directory (or `default_dir`) when no URL is given."""
ACCEPTED_STORE_FORMS: Final = (
    "a file path such as /var/lib/fxhub/hub.sqlite3, sqlite:///absolute/path.sqlite3, "
    "or postgresql://user:password@host:5432/database (postgres:// works too)"
)
_SCHEME: Final = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


def open_store(
    url: str | None, *, default_dir: Path | None = None, hot_window: int = DEFAULT_WINDOW
) -> CandleStore:
    """Open the store `url` names, behind a `HotWindowStore` of `hot_window` candles per series.

    - None: SQLite at `<default_dir or the user data dir>/hub.sqlite3`;
    - a plain path or `sqlite:///absolute/path`: SQLite at that path;
    - `postgresql://...` or `postgres://...`: PostgreSQL, table `candles`.

    Anything else raises `ConfigError` naming the value (its password masked) and the accepted forms.
    `hot_window=0` turns the in-memory window off (needed when several hubs share one PostgreSQL).
    """
    store = _open_backend(url, default_dir)
    shown = "(default)" if url is None else mask_store_url(url)
    logger.info("candle store %r from %s, hot window %d", store, shown, hot_window)
    return HotWindowStore(store, window=hot_window)


def _open_backend(url: str | None, default_dir: Path | None) -> SqliteStore | PostgresStore:
    if url is None:
        directory = default_dir if default_dir is not None else Path(platformdirs.user_data_dir("fxhub"))
        return SqliteStore(directory / DEFAULT_STORE_FILE)
    text = url.strip()
    if not text:
        raise _bad(url, "it is empty")
    match = _SCHEME.match(text)
    if match is None:
        return SqliteStore(Path(text).expanduser())
    scheme = match.group(1).lower()
    if scheme in ("postgresql", "postgres"):
        return PostgresStore(text)
    if scheme == "sqlite":
        path = text[match.end() :]
        if not path.startswith("/") or path.endswith("/"):
            raise _bad(
                url, "a sqlite:// URL needs an absolute file path after it, as in sqlite:///data/hub.db"
            )
        return SqliteStore(Path(path))
    raise _bad(url, f"the scheme {scheme!r} is not supported")


def _bad(url: str, why: str) -> ConfigError:
    return ConfigError(
        f"the store must be {ACCEPTED_STORE_FORMS}, was {mask_store_url(url)!r} ({why}); "
        "fix FXHUB_STORE or --store, or leave it unset for SQLite in the user data directory"
    )
