"""What IG's REST API answers, as fxhub reads it: the session a login gives, market details, minute prices.

Parsing only, no I/O: `fxhub.sources.ig.rest.IgRestClient` sends the requests and hands the bodies here.
IG's JSON is read defensively (a missing or mistyped field becomes None, not an exception), and every
price stays in IG's points: `PriceScale` turns them into prices.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from fxhub.model import Candle, PriceBasis, Source, VolumeType
from fxhub.settings import Secret
from fxhub.sources.ig.messages import PriceScale

__all__ = [
    "IgSession",
    "MarketDetails",
    "MinutePrice",
    "as_float",
    "as_object",
    "candle_from_minute_price",
    "error_code",
    "minute_price",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class IgSession:
    """What a login gives: the account, the streaming endpoint and the two session tokens."""

    account_id: str
    lightstreamer_endpoint: str
    cst: Secret
    security_token: Secret
    client_id: str | None = None
    timezone_offset_hours: float = 0.0
    api_version: int = 2

    @property
    def stream_password(self) -> Secret:
        """The Lightstreamer password IG expects: ``CST-<cst>|XST-<x-security-token>``."""
        return Secret(f"CST-{self.cst.reveal()}|XST-{self.security_token.reveal()}")


@dataclass(frozen=True, slots=True, kw_only=True)
class MarketDetails:
    """The parts of ``GET /markets/{epic}`` fxhub uses, with the checked price scale."""

    epic: str
    name: str | None
    market_status: str | None
    scaling_factor: float
    decimal_places_factor: int | None
    one_pip_means: str | None
    bid: float | None
    offer: float | None
    scale: PriceScale


@dataclass(frozen=True, slots=True, kw_only=True)
class MinutePrice:
    """One minute of ``GET /prices/{epic}``: bid and ask OHLC as IG sends them (IG points) and volume.

    For IG's FX markets ``lastTradedVolume`` is IG's own count of price updates in the minute, not traded
    size; None when IG sent none.
    """

    start: datetime  # UTC minute start (snapshotTimeUTC)
    bid: tuple[float, float, float, float] | None  # open, high, low, close
    ask: tuple[float, float, float, float] | None
    last_traded_volume: int | None

    @property
    def start_ns(self) -> int:
        return int(self.start.timestamp()) * 1_000_000_000

    def mid_ohlc(self) -> tuple[float, float, float, float] | None:
        """Per-component mid of bid and ask (IG's own "mid" chart), or one side when only one came."""
        if self.bid is not None and self.ask is not None:
            return (
                (self.bid[0] + self.ask[0]) / 2,
                (self.bid[1] + self.ask[1]) / 2,
                (self.bid[2] + self.ask[2]) / 2,
                (self.bid[3] + self.ask[3]) / 2,
            )
        return self.bid or self.ask


def error_code(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:200] or f"HTTP {response.status_code}"
    if isinstance(body, dict) and isinstance(body.get("errorCode"), str):
        return str(body["errorCode"])
    return str(body)[:200]


def as_object(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_float(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _ohlc(row: Mapping[str, Any], side: str) -> tuple[float, float, float, float] | None:
    values = []
    for key in ("openPrice", "highPrice", "lowPrice", "closePrice"):
        price = row.get(key)
        value = as_float(price.get(side)) if isinstance(price, dict) else None
        if value is None:
            return None
        values.append(value)
    return (values[0], values[1], values[2], values[3])


def minute_price(row: object, offset: timedelta) -> MinutePrice | None:
    """One row of ``GET /prices/{epic}``, or None for a row without a readable time."""
    if not isinstance(row, dict):
        return None
    when: datetime | None = None
    utc_text, local_text = row.get("snapshotTimeUTC"), row.get("snapshotTime")
    try:
        if isinstance(utc_text, str):
            when = datetime.fromisoformat(utc_text.rstrip("Z")).replace(tzinfo=UTC)
        elif isinstance(local_text, str):
            local = datetime.strptime(local_text, "%Y/%m/%d %H:%M:%S").replace(tzinfo=UTC)
            when = local - offset
    except ValueError:
        logger.warning("IG price row with an unreadable time skipped: %r", row)
        return None
    if when is None:
        return None
    volume = as_float(row.get("lastTradedVolume"))
    return MinutePrice(
        start=when.replace(second=0, microsecond=0),
        bid=_ohlc(row, "bid"),
        ask=_ohlc(row, "ask"),
        last_traded_volume=int(volume) if volume is not None and volume >= 0 else None,
    )


def candle_from_minute_price(
    price: MinutePrice, *, symbol: str, epic: str, scale: PriceScale
) -> Candle | None:
    """A gap-filling candle from one minute of IG's price history; None if the minute has no prices.

    Mid OHLC in `scale`'s prices (high and low widened to hold open and close, which IG's per-side mids
    need not), volume IG's `lastTradedVolume` (its own update count for FX), `complete=False`: IG's
    count is not fxhub's quote count, so the minute stays marked as filled from elsewhere.
    """
    ohlc = price.mid_ohlc()
    if ohlc is None:
        return None
    open_, high, low, close = (scale.to_price(value) for value in ohlc)
    return Candle(
        symbol=symbol,
        timestamp=price.start,
        open=open_,
        high=max(open_, high, low, close),
        low=min(open_, high, low, close),
        close=close,
        volume=float(price.last_traded_volume or 0),
        source=Source.IG,
        volume_type=VolumeType.TICK,
        price_basis=PriceBasis.SPOT,
        instrument=epic,
        complete=False,
    )
