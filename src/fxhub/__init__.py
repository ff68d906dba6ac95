"""fxhub: a market-data hub for FX scalpers that gives strategies real volume.

The public names users and strategies rely on are re-exported here.
"""

from importlib.metadata import PackageNotFoundError as _PackageNotFoundError
from importlib.metadata import version as _version

from fxhub.errors import ConfigError, DataFormatError, FxhubError, ValidationError
from fxhub.fetcher import UnifiedDataFetcher
from fxhub.hub.client import connect_to_data_hub, connect_to_data_hub_async
from fxhub.instruments import Instrument, get_instrument
from fxhub.model import AggressorSide, Candle, PriceBasis, Quote, Source, Trade, VolumeType
from fxhub.settings import Settings, load_settings

try:
    __version__ = _version("fxhub")
except _PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0"

__all__ = [
    "AggressorSide",
    "Candle",
    "ConfigError",
    "DataFormatError",
    "FxhubError",
    "Instrument",
    "PriceBasis",
    "Quote",
    "Settings",
    "Source",
    "Trade",
    "UnifiedDataFetcher",
    "ValidationError",
    "VolumeType",
    "__version__",
    "connect_to_data_hub",
    "connect_to_data_hub_async",
    "get_instrument",
    "load_settings",
]
