"""What the hub answers, as typed values: push results, inventory rows, health."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fxhub.model import Source, VolumeType

__all__ = ["Health", "InventoryItem", "PushResult", "ReplacedKey"]

ReplacedKey = tuple[str, Source, datetime]
"""(symbol, source, timestamp) of a candle a push revised."""


@dataclass(frozen=True, slots=True)
class PushResult:
    """What a push did: new candles, revised ones (a differing candle replaced), exact repeats."""

    inserted: int = 0
    replaced: int = 0
    unchanged: int = 0
    replaced_keys: tuple[ReplacedKey, ...] = ()
    requests: int = 0

    @property
    def total(self) -> int:
        """Candles the hub accepted: inserted + replaced + unchanged."""
        return self.inserted + self.replaced + self.unchanged

    def __add__(self, other: PushResult) -> PushResult:
        return PushResult(
            inserted=self.inserted + other.inserted,
            replaced=self.replaced + other.replaced,
            unchanged=self.unchanged + other.unchanged,
            replaced_keys=self.replaced_keys + other.replaced_keys,
            requests=self.requests + other.requests,
        )


@dataclass(frozen=True, slots=True)
class InventoryItem:
    """One (symbol, source) the hub holds: how many candles and the first and last minute."""

    symbol: str
    source: Source
    volume_type: VolumeType
    count: int
    first: datetime
    last: datetime


@dataclass(frozen=True, slots=True)
class Health:
    """`GET /healthz`: `status` is ``"ok"``, or ``"degraded"`` when the hub's store does not answer."""

    status: str
    store: str | None
    candles: int | None
    version: str | None

    @property
    def ok(self) -> bool:
        return self.status == "ok"
