"""Where the hub keeps candles: a small `CandleStore` protocol, SQLite and PostgreSQL behind it, and a
hot in-memory window in front; `open_store` builds the one a URL names."""

from fxhub.hub.store.base import CandleKey, CandleStore, InventoryRow, UpsertResult
from fxhub.hub.store.errors import StoreError
from fxhub.hub.store.factory import open_store
from fxhub.hub.store.hot import EncodedPage, HotWindowStore, SeriesDelta, page_digest
from fxhub.hub.store.postgres import PostgresStore
from fxhub.hub.store.sqlite import SqliteStore

__all__ = [
    "CandleKey",
    "CandleStore",
    "EncodedPage",
    "HotWindowStore",
    "InventoryRow",
    "PostgresStore",
    "SeriesDelta",
    "SqliteStore",
    "StoreError",
    "UpsertResult",
    "open_store",
    "page_digest",
]
