"""The domain model: candles, quotes, trades, and what their volume means."""

from fxhub.model.candle import CANDLE_INTERVAL, Candle, parse_utc_timestamp
from fxhub.model.enums import SOURCE_VOLUME_TYPE, PriceBasis, Source, VolumeType
from fxhub.model.ticks import AggressorSide, Quote, Trade

__all__ = [
    "CANDLE_INTERVAL",
    "SOURCE_VOLUME_TYPE",
    "AggressorSide",
    "Candle",
    "PriceBasis",
    "Quote",
    "Source",
    "Trade",
    "VolumeType",
    "parse_utc_timestamp",
]
