"""IG's streaming items as plain data, and their translation into fxhub's domain types (no I/O).

The Lightstreamer client hands each update over as a map of field name to text, with the compact wire
encodings already resolved: a field the server marked unchanged (empty, or ``^N`` for N fields) carries
its previous value, ``#`` arrives as None and ``$`` as the empty string. A field that has never had a
value is None. So every function here takes such a map and treats None and ``""`` alike: not known.

Prices: IG quotes its FX epics in *points* on some channels (REST snapshot and history:
EUR/USD 11520.1 with ``scalingFactor`` 10000) and may quote them in the pair's own terms on others.
`PriceScale` reads the scale from the market details and decides per price, by magnitude against a
reference price, which of the two it is; a price that fits neither is refused, never guessed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from fxhub.errors import DataFormatError, FxhubError
from fxhub.instruments import Instrument
from fxhub.model import Quote

__all__ = [
    "MARKET_FIELDS",
    "MINUTE_FIELDS",
    "NS_PER_MS",
    "PLAUSIBLE_PRICE_FACTOR",
    "TICK_FIELDS",
    "IgAuthError",
    "IgEpicError",
    "IgError",
    "IgPriceScaleError",
    "IgStreamError",
    "IgUnreachable",
    "MarketState",
    "MinuteTickCount",
    "PriceScale",
    "market_item",
    "market_state_from_fields",
    "minute_item",
    "minute_tick_count_from_fields",
    "parse_one_pip_means",
    "price_scale_from_market",
    "quote_from_tick",
    "tick_item",
    "utm_ns",
]

NS_PER_MS: Final = 1_000_000

TICK_FIELDS: Final = ("BID", "OFR", "UTM")
"""Fields of ``CHART:{epic}:TICK`` (DISTINCT): one row per IG quote update; UTM in epoch ms."""

MARKET_FIELDS: Final = ("MARKET_STATE", "UPDATE_TIME")
"""Fields of ``MARKET:{epic}`` (MERGE) that fxhub reads."""

MINUTE_FIELDS: Final = ("UTM", "CONS_END", "CONS_TICK_COUNT")
"""Fields of ``CHART:{epic}:1MINUTE`` (MERGE): IG's own count of ticks in the current minute."""

PLAUSIBLE_PRICE_FACTOR: Final = 3.0
"""A price is plausible when it lies within this factor of the reference price, either way."""

_PIP_TEXT: Final = re.compile(r"\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)")


class IgError(FxhubError):
    """Something about IG (its REST API or its stream) went wrong; the message says what to do."""


class IgAuthError(IgError):
    """IG refused the credentials or the session tokens."""


class IgEpicError(IgError):
    """IG does not know the epic, or refuses it."""


class IgUnreachable(IgError):
    """IG's REST API or streaming server could not be reached."""


class IgPriceScaleError(IgError):
    """IG's price scale for an epic does not match the instrument table."""


class IgStreamError(IgError):
    """IG's Lightstreamer server refused the connection or a subscription."""

    def __init__(self, message: str, *, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class MarketState(StrEnum):
    """``MARKET_STATE`` of a ``MARKET:{epic}`` item."""

    CLOSED = "CLOSED"
    OFFLINE = "OFFLINE"
    TRADEABLE = "TRADEABLE"
    EDIT = "EDIT"
    AUCTION = "AUCTION"
    AUCTION_NO_EDIT = "AUCTION_NO_EDIT"
    SUSPENDED = "SUSPENDED"


@dataclass(frozen=True, slots=True, kw_only=True)
class MinuteTickCount:
    """IG's count of price updates in one minute (``CHART:{epic}:1MINUTE``), to check our own count."""

    epic: str
    start_ns: int  # the minute's UTM
    tick_count: int
    complete: bool  # CONS_END: the minute has closed


def tick_item(epic: str) -> str:
    return f"CHART:{epic}:TICK"


def market_item(epic: str) -> str:
    return f"MARKET:{epic}"


def minute_item(epic: str) -> str:
    return f"CHART:{epic}:1MINUTE"


def _text(fields: Mapping[str, str | None], name: str) -> str | None:
    value = fields.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def _number(fields: Mapping[str, str | None], name: str, item: str) -> float | None:
    text = _text(fields, name)
    if text is None:
        return None
    try:
        number = float(text)
    except ValueError:
        raise DataFormatError(f"{item}: field {name} must be a decimal number, was {text!r}") from None
    if not math.isfinite(number):
        raise DataFormatError(f"{item}: field {name} must be a finite number, was {text!r}")
    return number


def utm_ns(text: str | None, *, item: str = "IG update", field: str = "UTM") -> int | None:
    """IG's UTM (epoch milliseconds, as text) in nanoseconds; None when the field has no value."""
    if text is None or not text.strip():
        return None
    try:
        ms = int(text.strip())
    except ValueError:
        raise DataFormatError(
            f"{item}: field {field} must be whole epoch milliseconds such as 1762203600123, was {text!r}"
        ) from None
    if ms <= 0:
        raise DataFormatError(f"{item}: field {field} must be positive epoch milliseconds, was {text!r}")
    return ms * NS_PER_MS


def quote_from_tick(
    fields: Mapping[str, str | None], *, epic: str, symbol: str, scale: PriceScale | None = None
) -> Quote | None:
    """A `Quote` from one ``CHART:{epic}:TICK`` update, or None when BID, OFR or UTM has no value.

    IG sends empty values, for instance while a market is closed; those are not quotes. Prices are
    put into the pair's quoting by `scale` (none: taken as they come). A value that is there but is
    not a number, or a non-positive or crossed quote, raises `DataFormatError`.
    """
    item = tick_item(epic)
    bid = _number(fields, "BID", item)
    offer = _number(fields, "OFR", item)
    ts_event = utm_ns(fields.get("UTM"), item=item)
    if bid is None or offer is None or ts_event is None:
        return None
    if scale is not None:
        bid, offer = scale.to_price(bid), scale.to_price(offer)
    if bid <= 0 or offer < bid:
        raise DataFormatError(f"{item}: expected 0 < BID ≤ OFR, was BID {bid} OFR {offer}")
    return Quote(symbol=symbol, ts_event=ts_event, bid=bid, ask=offer)


def market_state_from_fields(fields: Mapping[str, str | None], *, epic: str) -> MarketState | None:
    """The ``MARKET_STATE`` of a ``MARKET:{epic}`` update; None when it carries none."""
    text = _text(fields, "MARKET_STATE")
    if text is None:
        return None
    try:
        return MarketState(text.upper())
    except ValueError:
        allowed = ", ".join(state.value for state in MarketState)
        raise DataFormatError(
            f"{market_item(epic)}: MARKET_STATE must be one of {allowed}, was {text!r}"
        ) from None


def minute_tick_count_from_fields(fields: Mapping[str, str | None], *, epic: str) -> MinuteTickCount | None:
    """IG's tick count of the minute in a ``CHART:{epic}:1MINUTE`` update; None without UTM or count."""
    item = minute_item(epic)
    start_ns = utm_ns(fields.get("UTM"), item=item)
    count = _number(fields, "CONS_TICK_COUNT", item)
    if start_ns is None or count is None:
        return None
    if count < 0 or not count.is_integer():
        raise DataFormatError(f"{item}: CONS_TICK_COUNT must be a whole number ≥ 0, was {count}")
    return MinuteTickCount(
        epic=epic,
        start_ns=start_ns,
        tick_count=int(count),
        complete=_text(fields, "CONS_END") == "1",
    )


def parse_one_pip_means(text: str | None) -> float | None:
    """The number at the start of IG's ``onePipMeans`` (``"0.0001 USD/EUR"`` → 0.0001)."""
    if not text:
        return None
    match = _PIP_TEXT.match(text)
    return float(match.group(1)) if match else None


@dataclass(frozen=True, slots=True, kw_only=True)
class PriceScale:
    """How an epic's prices map to the pair's quoting: ``price = raw / divisor`` (IG points) or ``raw``.

    `reference` is a price in the pair's quoting (IG's snapshot, else the instrument table's typical mid);
    with it, `to_price` takes whichever reading lies within `PLAUSIBLE_PRICE_FACTOR` of it and refuses a
    price that fits neither. Without it, every price is divided by `divisor`.
    """

    epic: str
    divisor: float
    pip_size: float
    reference: float | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.divisor) and self.divisor > 0):
            raise ValueError(f"PriceScale.divisor must be a positive number, was {self.divisor!r}")

    def plausible(self, price: float) -> bool:
        if self.reference is None:
            return True
        return self.reference / PLAUSIBLE_PRICE_FACTOR <= price <= self.reference * PLAUSIBLE_PRICE_FACTOR

    def to_price(self, raw: float) -> float:
        scaled = raw / self.divisor
        if self.reference is None or self.plausible(scaled):
            return scaled
        if self.plausible(raw):
            return raw
        raise DataFormatError(
            f"{self.epic}: price {raw:g} is neither in IG points (÷{self.divisor:g} = {scaled:g}) "
            f"nor in the pair's quoting; expected about {self.reference:g}"
        )

    @property
    def decimals(self) -> int:
        """Decimals that show every price of the pair: one more than its pip (EUR/USD 5, USD/JPY 3)."""
        return max(0, round(-math.log10(self.pip_size))) + 1


def price_scale_from_market(
    *,
    epic: str,
    instrument: Instrument,
    scaling_factor: float | None,
    one_pip_means: str | None,
    snapshot_bid: float | None,
    snapshot_offer: float | None,
) -> PriceScale:
    """Check IG's market details of `epic` against the instrument table and return its price scale.

    - ``onePipMeans`` must name the table's pip size of the pair (else the epic is not that pair);
    - the snapshot price divided by ``scalingFactor`` must be a plausible price of the pair (else the
      scale is not what IG says it is); a snapshot already in the pair's quoting is accepted too.
    """
    pip = parse_one_pip_means(one_pip_means)
    if pip is None or not math.isclose(pip, instrument.pip_size, rel_tol=1e-9):
        raise IgPriceScaleError(
            f"IG's onePipMeans for epic {epic!r} was {one_pip_means!r}, but the instrument table has "
            f"a pip of {instrument.pip_size:g} for {instrument.pair}: this epic does not quote that pair "
            f"the way fxhub expects; fix ig_epics of {instrument.pair} in instruments.toml"
        )
    if scaling_factor is None or not (math.isfinite(scaling_factor) and scaling_factor > 0):
        raise IgPriceScaleError(
            f"IG's scalingFactor for epic {epic!r} must be a positive number, was {scaling_factor!r}; "
            f"fxhub cannot tell the price scale of this market"
        )
    typical = instrument.sim.mid if instrument.sim is not None else None
    sides = [price for price in (snapshot_bid, snapshot_offer) if price is not None and price > 0]
    if not sides:
        return PriceScale(epic=epic, divisor=scaling_factor, pip_size=instrument.pip_size, reference=typical)
    snapshot = sum(sides) / len(sides)
    loose = PriceScale(epic=epic, divisor=scaling_factor, pip_size=instrument.pip_size, reference=typical)
    for price in (snapshot / scaling_factor, snapshot):
        if loose.plausible(price):
            return PriceScale(
                epic=epic, divisor=scaling_factor, pip_size=instrument.pip_size, reference=price
            )
    raise IgPriceScaleError(
        f"IG's snapshot price of epic {epic!r} was {snapshot:g} with scalingFactor {scaling_factor:g}, "
        f"which gives {snapshot / scaling_factor:g}; expected about {typical:g} for {instrument.pair}. "
        f"Check that the epic is the pair {instrument.pair}"
    )
