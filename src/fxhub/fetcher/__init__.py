"""The unified fetcher: the best candles the hub has for a pair (real CME volume first, IG spot as
the fallback), a window that never mixes sources, indicators with warm-up, and labels that say what the
prices and the volume are."""

from fxhub.fetcher.basis import adjust_to_spot, measure_basis, smooth_basis
from fxhub.fetcher.fetcher import (
    BASIS_ADJUSTED,
    VOLUME_SOURCE,
    CandleReader,
    NoMarketDataError,
    UnifiedDataFetcher,
)
from fxhub.fetcher.policy import POLICIES, PolicyName, SelectionPolicy
from fxhub.fetcher.selection import Selection, SourceCoverage, select_source, sources_read

__all__ = [
    "BASIS_ADJUSTED",
    "POLICIES",
    "VOLUME_SOURCE",
    "CandleReader",
    "NoMarketDataError",
    "PolicyName",
    "Selection",
    "SelectionPolicy",
    "SourceCoverage",
    "UnifiedDataFetcher",
    "adjust_to_spot",
    "measure_basis",
    "select_source",
    "smooth_basis",
    "sources_read",
]
