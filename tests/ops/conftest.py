"""Hand-built candles for the operator checks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from fxhub.model import Candle, Source

MakeCandle = Callable[..., Candle]


@pytest.fixture
def make_candle() -> MakeCandle:
    """`make_candle(timestamp, source="DATABENTO", symbol="EUR_USD", **extras)`, as collectors fill it."""

    def make(
        timestamp: datetime, source: str = "DATABENTO", symbol: str = "EUR_USD", **extras: Any
    ) -> Candle:
        real = source == Source.DATABENTO
        values: dict[str, Any] = {
            "symbol": symbol,
            "timestamp": timestamp,
            "open": 1.1604,
            "high": 1.1607,
            "low": 1.1601,
            "close": 1.1605,
            "volume": 120.0 if real else 45.0,
            "source": source,
            "volume_type": "real" if real else "tick",
            "price_basis": "futures" if real else "spot",
            "instrument": "6EZ5" if real else "CS.D.EURUSD.MINI.IP",
        }
        return Candle(**(values | extras))

    return make
