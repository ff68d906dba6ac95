"""The JSON shapes of the hub's API, declared so that /openapi.json describes them exactly.

These models document and test the wire format; the hub itself validates candles with
`Candle.from_dict`, which also checks what JSON Schema cannot say (high ≥ low, a minute start, ...).
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "SYMBOL_PATTERN",
    "CandleItem",
    "CandlesPage",
    "ErrorBody",
    "Health",
    "Inventory",
    "InventoryItem",
    "PushRequest",
    "PushResult",
    "ReplacedKey",
]

#: The rule `Candle` applies to `symbol`: a pair such as EUR_USD or a CME product root such as ES.
SYMBOL_PATTERN: Final = r"^[A-Z0-9]{1,12}(_[A-Z0-9]{1,12})?$"

SourceName = Literal["IG", "DATABENTO"]
Symbol = Annotated[str, Field(pattern=SYMBOL_PATTERN, examples=["EUR_USD"])]
Timestamp = Annotated[
    str,
    Field(
        json_schema_extra={"format": "date-time"},
        description="UTC minute start, e.g. 2025-11-04T13:05:00Z (the hub answers in this form).",
        examples=["2025-11-04T13:05:00Z"],
    ),
]
Price = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]


class CandleItem(BaseModel):
    """One minute of one symbol from one source (`Candle.to_dict()`); unset extras are left out."""

    model_config = ConfigDict(extra="forbid")

    symbol: Symbol
    timestamp: Timestamp
    open: Price
    high: Price
    low: Price
    close: Price
    volume: NonNegative
    source: SourceName
    volume_type: Literal["tick", "real"] = Field(description="'real' for DATABENTO, 'tick' for IG.")
    vwap: Price | None = None
    buy_volume: NonNegative | None = None
    sell_volume: NonNegative | None = None
    trade_count: Annotated[int, Field(ge=0)] | None = None
    quote_count: Annotated[int, Field(ge=0)] | None = None
    avg_spread_pips: NonNegative | None = None
    max_spread_pips: NonNegative | None = None
    ofi: float | None = None
    ofi_multi: float | None = None
    price_basis: Literal["spot", "futures"] | None = None
    instrument: Annotated[str, Field(min_length=1)] | None = None
    complete: bool | None = None


class PushRequest(BaseModel):
    """A batch of 1 to 10,000 candles; stored all or nothing."""

    model_config = ConfigDict(extra="forbid")

    candles: Annotated[list[CandleItem], Field(min_length=1, max_length=10_000)]


class ReplacedKey(BaseModel):
    """The key of a stored candle that a push revised."""

    symbol: str
    source: SourceName
    timestamp: Timestamp


class PushResult(BaseModel):
    """What a push did: new candles, revised candles, exact repeats."""

    inserted: int
    replaced: int
    unchanged: int
    replaced_keys: list[ReplacedKey]


class PageDelta(BaseModel):
    """Present when `candles` holds only what changed since the `X-Fxhub-Since` token (a latest read).

    The page is the client's held page with these candles put in (new minutes added, revisions
    replacing the candle of their minute), then everything before `first` dropped: `count` candles.
    """

    since: str
    first: Timestamp | None
    count: int


class CandlesPage(BaseModel):
    """Candles of one symbol, oldest first; `source` is the filter asked for (null: both sources)."""

    symbol: str
    source: SourceName | None
    candles: list[CandleItem]
    delta: PageDelta | None = None


class InventoryItem(BaseModel):
    """How many candles the hub holds for one (symbol, source), and their span."""

    symbol: str
    source: SourceName
    volume_type: Literal["tick", "real"]
    count: int
    first: Timestamp
    last: Timestamp


class Inventory(BaseModel):
    """Every (symbol, source) in the store, sorted by symbol, then source."""

    items: list[InventoryItem]


class Health(BaseModel):
    """Whether the hub and its store answer; `status` is 'degraded' (with `error`) when the store does not."""

    status: Literal["ok", "degraded"]
    store: str
    candles: int | None
    version: str
    error: str | None = None


class ErrorBody(BaseModel):
    """Every error: one sentence saying what was expected, what came and what to do, plus details."""

    error: str
    detail: Any = None
