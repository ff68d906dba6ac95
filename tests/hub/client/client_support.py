"""Test support: candles with realistic values (also used by the pusher script) and a stand-in hub."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import httpx

from fxhub.model import Candle, PriceBasis, Source, VolumeType

# A Tuesday in the London–New York overlap.
T0 = datetime(2025, 11, 4, 13, 0, tzinfo=UTC)


def ig_candle(minute: int, pair: str = "EUR_USD", *, start: datetime = T0) -> Candle:
    """A spot minute from IG: tick volume, quote count and spread, no trades."""
    price = 1.15 + 0.0001 * (minute % 50)
    return Candle(
        symbol=pair,
        timestamp=start + timedelta(minutes=minute),
        open=price,
        high=price + 0.0004,
        low=price - 0.0003,
        close=price + 0.0001,
        volume=40 + minute % 7,
        source=Source.IG,
        volume_type=VolumeType.TICK,
        quote_count=40 + minute % 7,
        avg_spread_pips=0.6,
        max_spread_pips=1.1,
        price_basis=PriceBasis.SPOT,
        instrument="CS.D.EURUSD.MINI.IP",
        complete=True,
    )


def databento_candle(minute: int, pair: str = "EUR_USD", *, start: datetime = T0) -> Candle:
    """A futures minute from CME via Databento: real volume, trade VWAP, aggressor split, OFI."""
    price = 1.1542 + 0.0001 * (minute % 50)
    return Candle(
        symbol=pair,
        timestamp=start + timedelta(minutes=minute),
        open=price,
        high=price + 0.0005,
        low=price - 0.0002,
        close=price + 0.00025,
        volume=120.0 + minute % 11,
        source=Source.DATABENTO,
        volume_type=VolumeType.REAL,
        vwap=price + 0.0001,
        buy_volume=70.0,
        sell_volume=50.0,
        trade_count=31,
        quote_count=412,
        ofi=12.5,
        ofi_multi=0.18,
        price_basis=PriceBasis.FUTURES,
        instrument="6EZ5",
        complete=True,
    )


@dataclass
class FakeHub:
    """Answers `POST /v1/candles` like the hub unless told otherwise; records every pushed batch."""

    pushes: list[list[dict[str, Any]]] = field(default_factory=list)
    replies: list[tuple[int, dict[str, Any]]] = field(default_factory=list)

    def reply_next(self, status: int, body: dict[str, Any]) -> None:
        self.replies.append((status, body))

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path != "/v1/candles" or request.method != "POST":
            return httpx.Response(404, json={"error": f"no {request.url.path}", "detail": None})
        if self.replies:
            status, body = self.replies.pop(0)
            return httpx.Response(status, json=body)
        batch = json.loads(request.content)["candles"]
        self.pushes.append(batch)
        return httpx.Response(
            200, json={"inserted": len(batch), "replaced": 0, "unchanged": 0, "replaced_keys": []}
        )

    @property
    def pushed(self) -> list[dict[str, Any]]:
        return [candle for batch in self.pushes for candle in batch]


class RunningHub(Protocol):
    """What the client tests use of `tests/hub/conftest.py`'s `HubProcess`."""

    url: str
    token: str
    store_url: str

    @property
    def token_file(self) -> Path: ...

    def start(self) -> None: ...

    def stop(self, timeout: float = ...) -> int | None: ...
