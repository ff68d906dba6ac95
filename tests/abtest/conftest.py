"""Bars for the A/B-test tests: the real 6EH4 month, and a builder of small hand-made bar series."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fxhub.abtest.data import MarketBars, Variant, load_bar_file
from fxhub.model import Candle, PriceBasis, Source, VolumeType

REAL_6EH4 = (
    Path(__file__).resolve().parents[2].parent
    / "shared/data/real/cme"
    / ("6EH4.XCME_1min_bars_20240101_20240131.csv.gz")
)

Ohlc = tuple[float, float, float, float]


def real_file() -> Path:
    if not REAL_6EH4.is_file():
        pytest.fail(
            f"real data file missing: {REAL_6EH4} (expected beside the repo in ../shared/data/real/cme/)"
        )
    return REAL_6EH4


@pytest.fixture(scope="session")
def real_path() -> Path:
    """The real CME 6EH4 January 2024 bars; fails (never skips) when the file is missing."""
    return real_file()


@pytest.fixture(scope="session")
def real_bars() -> MarketBars:
    return load_bar_file(real_file())


def make_bars(
    ohlc: Sequence[Ohlc],
    volumes: Sequence[float] | None = None,
    *,
    start: str = "2024-01-09 14:00",
    minutes: Sequence[int] | None = None,
    pair: str = "EUR_USD",
) -> MarketBars:
    """Futures-style bars from `start` (UTC) at the given minute offsets; A = volume, B = TWAP."""
    offsets = list(minutes) if minutes is not None else list(range(len(ohlc)))
    index = pd.DatetimeIndex([pd.Timestamp(start, tz="UTC") + pd.Timedelta(minutes=m) for m in offsets])
    vol = np.asarray(volumes if volumes is not None else [10.0] * len(ohlc), dtype=np.float64)
    frame = pd.DataFrame(
        np.asarray(ohlc, dtype=np.float64), index=index, columns=["open", "high", "low", "close"]
    )
    frame["volume"] = vol
    candles = tuple(
        Candle(
            symbol=pair,
            timestamp=t.to_pydatetime(),
            open=o,
            high=h,
            low=low,
            close=c,
            volume=float(v),
            source=Source.DATABENTO,
            volume_type=VolumeType.REAL,
            price_basis=PriceBasis.FUTURES,
        )
        for t, (o, h, low, c), v in zip(index, ohlc, vol, strict=True)
    )
    return MarketBars(
        pair=pair,
        pip_size=0.0001,
        frame=frame,
        candles=candles,
        anchor="cme",
        price_basis="futures",
        origin="test",
        time_label="open",
        variants=(
            Variant(name="A", label="true_vwap", weighting="real volume", weights=vol),
            Variant(name="B", label="twap", weighting="equal per minute", weights=None),
        ),
        real_volume_coverage=1.0,
    )


@pytest.fixture
def bars() -> Callable[..., MarketBars]:
    """The `make_bars` builder (test modules cannot import conftest by name under importlib mode)."""
    return make_bars
