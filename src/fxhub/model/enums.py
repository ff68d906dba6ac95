"""Where a candle came from and what its volume means."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

__all__ = ["SOURCE_VOLUME_TYPE", "PriceBasis", "Source", "VolumeType"]


class Source(StrEnum):
    """The feed a candle was built from."""

    IG = "IG"
    DATABENTO = "DATABENTO"


class VolumeType(StrEnum):
    """What a candle's volume counts."""

    TICK = "tick"  # quote updates in the minute: activity, not size
    REAL = "real"  # contracts traded on the exchange


class PriceBasis(StrEnum):
    """Which market the prices belong to; futures trade at spot plus forward points."""

    SPOT = "spot"
    FUTURES = "futures"


#: The only honest pairing of source and volume meaning.
SOURCE_VOLUME_TYPE: Final[dict[Source, VolumeType]] = {
    Source.IG: VolumeType.TICK,
    Source.DATABENTO: VolumeType.REAL,
}
