"""HTTP header names of the hub's API that its server and its clients both use (docs/hub-api.md)."""

from __future__ import annotations

from typing import Final

__all__ = ["SERIES_HEADER", "SINCE_HEADER"]

SERIES_HEADER: Final = "X-Fxhub-Series"
"""On a single-source latest page from the hot window: the token naming the series' contents."""
SINCE_HEADER: Final = "X-Fxhub-Since"
"""On a latest read: the series token of the page the client holds, to get only what changed."""
