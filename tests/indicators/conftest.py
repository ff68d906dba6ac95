"""The real 6EH4 1-minute bars (January 2024) as an indicator input frame, plus a small frame builder."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd
import pytest

REAL_6EH4 = (
    Path(__file__).resolve().parents[2].parent
    / "shared"
    / "data"
    / "real"
    / "cme"
    / "6EH4.XCME_1min_bars_20240101_20240131.csv.gz"
)


@pytest.fixture(scope="session")
def real_6eh4() -> pd.DataFrame:
    """Real CME 6EH4 bars indexed by UTC minute start; fails (never skips) when the file is missing."""
    if not REAL_6EH4.is_file():
        pytest.fail(
            f"real data file missing: {REAL_6EH4} (expected beside the repo in ../shared/data/real/cme/)"
        )
    frame = pd.read_csv(REAL_6EH4)
    # The file stamps each bar with its close (its first bar is 23:01, a minute after the CME open, and
    # every day has a 22:00 bar, the 16:00 Chicago close); fxhub labels a minute by its start.
    stamped = pd.to_datetime(frame.pop("timestamp_utc"), utc=True)
    frame.index = pd.DatetimeIndex(stamped - pd.Timedelta(minutes=1))
    return frame.astype(float)


def make_frame(
    start: str,
    closes: Sequence[float],
    *,
    volumes: Sequence[float] | None = None,
    minutes: Sequence[int] | None = None,
    spread: float = 0.0002,
) -> pd.DataFrame:
    """Bars from `start` (UTC) at the given minute offsets (default 0, 1, 2, ...) with H/L around close."""
    offsets = list(minutes) if minutes is not None else list(range(len(closes)))
    index = pd.DatetimeIndex([pd.Timestamp(start, tz="UTC") + pd.Timedelta(minutes=m) for m in offsets])
    close = pd.Series(list(closes), index=index, dtype=float)
    return pd.DataFrame(
        {
            "open": close,
            "high": close + spread,
            "low": close - spread / 2,
            "close": close,
            "volume": list(volumes) if volumes is not None else [1.0] * len(closes),
        },
        index=index,
    )


@pytest.fixture
def bars() -> Callable[..., pd.DataFrame]:
    """The `make_frame` builder (test modules cannot import conftest by name under importlib mode)."""
    return make_frame
