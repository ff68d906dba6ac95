"""A hub with candles as the collectors would have pushed them, for `fxhub check` and `fxhub doctor`."""

from __future__ import annotations

import socket
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from fxhub.hub.client import connect_to_data_hub
from fxhub.model import Candle

# A Tuesday in the London-New York overlap (CME open, Chicago on UTC-6): the time the checks judge at.
NOW: Final = datetime(2025, 11, 4, 14, 0, 20, tzinfo=UTC)
NOW_ARG: Final = ("--now", "2025-11-04T14:00:20Z")
PAIRS: Final = ("EUR_USD", "GBP_USD", "USD_JPY")
_MIDS: Final = {"EUR_USD": 1.1604, "GBP_USD": 1.3150, "USD_JPY": 153.40}


def fill_hub(hub: Any, sources: Iterable[str], pairs: Iterable[str] = PAIRS, minutes: int = 60) -> int:
    """Push `minutes` candles per pair and source ending with the minute before NOW's; the count pushed."""
    last = NOW.replace(second=0) - timedelta(minutes=1)
    candles = [
        _candle(pair, source, last - timedelta(minutes=i))
        for pair in pairs
        for source in sources
        for i in range(minutes)
    ]
    with connect_to_data_hub(hub.url, hub.token) as client:
        return client.push_candles(candles).total


def unreachable_url() -> str:
    """A loopback URL nothing listens on (a port that was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def _candle(pair: str, source: str, timestamp: datetime) -> Candle:
    real = source == "DATABENTO"
    mid = _MIDS[pair]
    return Candle(
        symbol=pair,
        timestamp=timestamp,
        open=mid,
        high=mid * 1.0002,
        low=mid * 0.9998,
        close=mid * 1.0001,
        volume=120.0 if real else 45.0,
        source=source,
        volume_type="real" if real else "tick",
        price_basis="futures" if real else "spot",
        instrument="6EZ5" if real else "CS.D.EURUSD.MINI.IP",
    )
