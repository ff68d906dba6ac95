"""`fxhub collect ig --file` fills a real hub from simulated IG recordings and real vendor tick files.

Vendor files go through the vectorised import, recordings quote by quote. The expected candles are worked
out here from the files with the standard library only (their times, per-minute counts and the fill rule:
an open minute without quotes gets a zero-volume candle, at most 15 in a row), never with fxhub's readers.
The real files come from ../shared/data/real/fx (see its MANIFEST.md).
"""

from __future__ import annotations

import csv
import gzip
import shutil
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cli_support import run_fxhub

from fxhub.hub.client import connect_to_data_hub
from fxhub.model import Source
from fxhub.sessions import fx_is_open
from fxhub.sim import SimulationConfig, simulate

REAL_FX = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "real" / "fx"
DUKASCOPY = ("dukascopy_EURUSD_ticks_2019-02-04.csv.gz", "dukascopy_EURUSD_ticks_2019-02-05.csv.gz")
HISTDATA = "histdata_EURUSD_ticks_2020-01-01.csv"
TRUEFX = "truefx_USDJPY_ticks_2013-01-01.csv"
MAX_FILL_MINUTES = 15
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def real(name: str) -> Path:
    path = REAL_FX / name
    if not path.is_file():
        pytest.fail(f"The real-data file {path} is missing; these tests need ../shared/data/real/fx.")
    return path


# --- the files' times, read here without fxhub -------------------------------------------------------------


def ms_times(path: Path) -> list[int]:
    """Dukascopy: epoch_ms; fxhub recordings: utm_ms (after the format line)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", newline="") as text:
        rows = csv.reader(line for line in text if not line.startswith("#"))
        header = next(rows)
        column = header.index("epoch_ms" if "epoch_ms" in header else "utm_ms")
        return [int(row[column]) for row in rows]


def histdata_times(path: Path) -> list[int]:
    """``YYYYMMDD HHMMSSfff`` in EST, five hours behind UTC all year."""
    with path.open(encoding="utf-8") as text:
        return [
            (
                datetime.strptime(line.split(",")[0], "%Y%m%d %H%M%S%f").replace(tzinfo=UTC)
                + timedelta(hours=5)
                - EPOCH
            )
            // timedelta(milliseconds=1)
            for line in text
        ]


def truefx_times(path: Path) -> list[int]:
    with path.open(encoding="utf-8") as text:
        next(text)
        return [
            (datetime.fromisoformat(line.split(",")[0]) - EPOCH) // timedelta(milliseconds=1) for line in text
        ]


def expected_candles(times_ms: Iterable[int]) -> dict[datetime, float]:
    """Minute → volume: quotes per open minute, zero-volume fills of up to 15 open minutes after one."""
    counts = Counter(ms // 60_000 for ms in times_ms)

    def label(minute: int) -> datetime:
        return EPOCH + timedelta(minutes=minute)

    out: dict[datetime, float] = {}
    minutes = sorted(counts)
    for previous, minute in zip([None, *minutes], minutes, strict=False):
        if previous is not None:
            empty, between = 0, previous + 1
            while between < minute and empty < MAX_FILL_MINUTES:
                if fx_is_open(label(between)):
                    out[label(between)] = 0.0
                    empty += 1
                between += 1
        if fx_is_open(label(minute)):
            out[label(minute)] = float(counts[minute])
    return out


def assert_hub_holds(hub: Any, expected: dict[str, dict[datetime, float]]) -> None:
    with connect_to_data_hub(hub.url, hub.token) as client:
        inventory = {item.symbol: item for item in client.inventory() if item.source == Source.IG}
        assert sorted(inventory) == sorted(expected)
        for pair, minutes in expected.items():
            item = inventory[pair]
            assert (item.count, item.first, item.last) == (len(minutes), min(minutes), max(minutes))
            assert item.volume_type == "tick"
            candles = client.get_candles(
                pair, min(minutes), max(minutes) + timedelta(minutes=1), source=Source.IG
            )
            assert {c.timestamp: c.volume for c in candles} == minutes
            assert all(c.quote_count == c.volume and c.price_basis == "spot" for c in candles)


# --- the runs -----------------------------------------------------------------------------------------------


def test_collect_ig_file_fills_the_hub_from_simulated_recordings(
    hub_process: Callable[..., Any], tmp_path: Path
) -> None:
    simulate(SimulationConfig(start=datetime(2025, 11, 4, 13, 0, tzinfo=UTC), minutes=5, seed=11), tmp_path)
    files = sorted((tmp_path / "ig").glob("*.ticks.csv"))
    assert [f.name for f in files] == ["EUR_USD.ticks.csv", "GBP_USD.ticks.csv", "USD_JPY.ticks.csv"]
    hub = hub_process()

    result = run_fxhub(
        ["collect", "ig", "--file", *map(str, files)], hub, tmp_path, outbox=tmp_path / "outbox.sqlite3"
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 left in the outbox" in result.stdout
    expected = {f.name.split(".")[0]: expected_candles(ms_times(f)) for f in files}
    assert all(len(minutes) >= 5 for minutes in expected.values())
    assert f"{sum(len(ms_times(f)) for f in files):,} quotes" in result.stdout
    assert_hub_holds(hub, expected)


def test_collect_ig_file_fills_the_hub_from_real_dukascopy_histdata_and_truefx_files(
    hub_process: Callable[..., Any], tmp_path: Path
) -> None:
    hub = hub_process()
    eur_usd = [real(name) for name in (*DUKASCOPY, HISTDATA)]  # their names say EUR_USD
    # TrueFX's own download, renamed so that nothing but --pair says what it holds.
    usd_jpy = tmp_path / "ticks_2013-01-01.csv"
    shutil.copyfile(real(TRUEFX), usd_jpy)

    first = run_fxhub(
        ["collect", "ig", "--file", *map(str, eur_usd)], hub, tmp_path, outbox=tmp_path / "outbox.sqlite3"
    )
    without_pair = run_fxhub(
        ["collect", "ig", "--file", str(usd_jpy)], hub, tmp_path, outbox=tmp_path / "outbox.sqlite3"
    )
    second = run_fxhub(
        ["collect", "ig", "--file", str(usd_jpy), "--pair", "USD_JPY"],
        hub,
        tmp_path,
        outbox=tmp_path / "outbox.sqlite3",
    )

    for result in (first, second):
        assert result.returncode == 0, result.stdout + result.stderr
        assert "0 left in the outbox" in result.stdout
    assert without_pair.returncode == 2
    assert "--pair" in without_pair.stderr
    eur_usd_times = [*ms_times(eur_usd[0]), *ms_times(eur_usd[1]), *histdata_times(eur_usd[2])]
    assert f"{len(eur_usd_times):,} quotes" in first.stdout
    assert "1,000 quotes" in second.stdout
    expected = {
        "EUR_USD": expected_candles(eur_usd_times),
        "USD_JPY": expected_candles(truefx_times(usd_jpy)),
    }
    # Two full Mondays/Tuesdays, 15 fills after the second, HistData's six hours; TrueFX's 36 minutes.
    assert len(expected["EUR_USD"]) == 2 * 1440 + MAX_FILL_MINUTES + 361
    assert len(expected["USD_JPY"]) == 36
    assert_hub_holds(hub, expected)
