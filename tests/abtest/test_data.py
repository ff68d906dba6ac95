"""Loading A/B-test bars: the real CME file (close-stamped), bad files, and the hub's two sources."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fxhub.abtest.data import NoABDataError, load_bar_file, load_from_hub
from fxhub.errors import DataFormatError
from fxhub.model import Candle, Source, VolumeType

START = datetime(2025, 11, 4, 14, 0, tzinfo=UTC)


def test_the_real_6eh4_file_is_detected_as_close_stamped_and_moved_to_open_times(real_path: Path) -> None:
    bars = load_bar_file(real_path)
    assert len(bars.frame) == len(bars.candles) == 29_996
    assert bars.frame.index[0] == pd.Timestamp("2024-01-01 23:00", tz="UTC")  # the CME open, 17:00 Chicago
    assert bars.time_label.startswith("close, shifted back one minute")
    assert bars.candles[0].timestamp == datetime(2024, 1, 1, 23, 0, tzinfo=UTC)
    assert bars.candles[0].open == 1.1076
    assert (bars.anchor, bars.price_basis, bars.real_volume_coverage) == ("cme", "futures", 1.0)
    assert [(v.name, v.label) for v in bars.variants] == [("A", "true_vwap"), ("B", "twap")]
    assert bars.variants[1].weights is None
    assert load_bar_file(real_path, label="open").frame.index[0] == pd.Timestamp("2024-01-01 23:01", tz="UTC")


def _write(path: Path, rows: list[str], header: str = "timestamp,open,high,low,close,volume") -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_an_open_stamped_file_with_zoned_times_stays_where_it_is(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "bars.csv",
        [
            "2024-01-09T09:00:00-05:00,1.1,1.1002,1.0999,1.1001,12",
            "2024-01-09T09:01:00-05:00,1.1,1.1,1.1,1.1,0",
        ],
    )
    bars = load_bar_file(path)
    assert list(bars.frame.index) == [
        pd.Timestamp("2024-01-09 14:00", tz="UTC"),
        pd.Timestamp("2024-01-09 14:01", tz="UTC"),
    ]
    assert bars.time_label.startswith("open")
    assert bars.real_volume_coverage == 0.5


@pytest.mark.parametrize(
    ("header", "rows", "message"),
    [
        ("time,open,high,low,close,volume", ["2024-01-09 14:00,1,1,1,1,1"], "expected columns timestamp"),
        (None, ["2024-01-09 14:01,1,1,1,1,1", "2024-01-09 14:00,1,1,1,1,1"], "strictly increasing"),
        (None, ["2024-01-09 14:00:30,1,1,1,1,1"], "minute starts"),
        (None, ["2024-01-09 14:00,1.1,1.0,1.2,1.1,1"], "low ≤ open"),
        (None, ["2024-01-09 14:00,1.1,1.2,1.0,,1"], "NaN or empty"),
        (None, ["yesterday,1,1,1,1,1"], "unparseable"),
    ],
)
def test_a_malformed_file_is_refused_saying_what_was_expected(
    tmp_path: Path, header: str | None, rows: list[str], message: str
) -> None:
    path = _write(tmp_path / "bad.csv", rows, header or "timestamp,open,high,low,close,volume")
    with pytest.raises(DataFormatError, match=message) as info:
        load_bar_file(path)
    assert str(path) in str(info.value)


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DataFormatError, match="no such file"):
        load_bar_file(tmp_path / "absent.csv")


def _candle(source: Source, minute: int, price: float, volume: float) -> Candle:
    return Candle(
        symbol="EUR_USD",
        timestamp=START + timedelta(minutes=minute),
        open=price,
        high=price + 0.0002,
        low=price - 0.0002,
        close=price,
        volume=volume,
        source=source,
        volume_type=VolumeType.REAL if source is Source.DATABENTO else VolumeType.TICK,
    )


class _Reader:
    def __init__(self, candles: list[Candle]) -> None:
        self.candles = candles
        self.calls: list[tuple[str, datetime, datetime, str]] = []

    def get_candles(
        self, pair: str, start: datetime, end: datetime, source: Source | str | None = None
    ) -> list[Candle]:
        self.calls.append((pair, start, end, str(Source(source))))
        return [c for c in self.candles if c.source is Source(source) and start <= c.timestamp < end]


def test_hub_with_both_sources_trades_ig_prices_weighted_by_cme_volume_or_ig_ticks() -> None:
    ig = [_candle(Source.IG, m, 1.1000 + m * 1e-5, 40.0 + m) for m in range(5)]
    cme = [_candle(Source.DATABENTO, m, 1.1035, 100.0 * m) for m in (1, 2, 4)]  # minutes 0 and 3 missing
    reader = _Reader(ig + cme)
    bars = load_from_hub(reader, "EUR_USD", START, START + timedelta(minutes=5))
    assert {call[3] for call in reader.calls} == {"DATABENTO", "IG"}
    assert (bars.anchor, bars.price_basis) == ("fx", "spot")
    assert bars.candles == tuple(ig)
    assert bars.frame["close"].tolist() == [c.close for c in ig]
    a, b = bars.variants
    assert (a.label, b.label) == ("true_vwap", "tick_vwap")
    assert a.weights is not None
    assert b.weights is not None
    assert a.weights.tolist() == [0.0, 100.0, 200.0, 0.0, 400.0]
    assert np.array_equal(b.weights, [40.0, 41.0, 42.0, 43.0, 44.0])
    assert bars.real_volume_coverage == pytest.approx(0.6)


def test_hub_with_cme_only_compares_true_vwap_with_twap_on_futures_prices() -> None:
    cme = [_candle(Source.DATABENTO, m, 1.1035, 10.0) for m in range(3)]
    bars = load_from_hub(_Reader(cme), "EUR_USD", START, START + timedelta(minutes=3))
    assert (bars.anchor, bars.price_basis) == ("cme", "futures")
    assert [v.label for v in bars.variants] == ["true_vwap", "twap"]


def test_hub_without_cme_candles_says_variant_a_needs_real_volume() -> None:
    ig = [_candle(Source.IG, m, 1.1, 40.0) for m in range(3)]
    with pytest.raises(NoABDataError, match=r"variant A needs real volume.*was none \(IG candles: 3\)"):
        load_from_hub(_Reader(ig), "EUR_USD", START, START + timedelta(minutes=3))
