"""What a candle store raises when its database fails."""

from __future__ import annotations

from fxhub.errors import FxhubError

__all__ = ["StoreError"]


class StoreError(FxhubError):
    """The database behind a store failed or refused a write; a failed `upsert` stored nothing.

    The message names the store (its URL masked) and the database's reason. The HTTP layer answers it
    with `503`: the request was fine, the storage was not.
    """
