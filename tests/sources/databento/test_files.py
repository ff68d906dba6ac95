"""Replaying DBN files (`files.py`) on a simulated market with known truth, and on damaged files."""

from __future__ import annotations

import re
import warnings
from datetime import UTC, datetime
from pathlib import Path

import databento as db
import pandas as pd
import pytest

from fxhub.core.bars import BarSpec
from fxhub.errors import DataFormatError
from fxhub.model import Candle, PriceBasis, Source, VolumeType
from fxhub.sources.databento import files
from fxhub.sources.databento.files import open_dbn_files, replay_files
from fxhub.sources.databento.router import DatabentoBars
from fxhub.sources.pacing import Pacer

# The simulated market of conftest.py: 150 minutes from 21:00 UTC, the CME break 22:00–23:00 UTC.
SIM_START = datetime(2025, 11, 3, 21, 0, tzinfo=UTC)
SIM_MINUTES = 150
PRODUCTS = {"EUR_USD": "6E", "GBP_USD": "6B", "USD_JPY": "6J"}
BREAK_START = datetime(2025, 11, 3, 22, 0, tzinfo=UTC)
BREAK_END = datetime(2025, 11, 3, 23, 0, tzinfo=UTC)


def _replay(paths: list[Path], spec: BarSpec | None = None) -> tuple[list[Candle], DatabentoBars, int]:
    out: list[Candle] = []
    bars = DatabentoBars(out.append, spec=spec)
    records = replay_files(open_dbn_files(paths), bars)
    return out, bars, records


def _mbp(sim_dir: Path, product: str) -> Path:
    return sim_dir / "cme" / f"{product}.mbp-10.dbn.zst"


def _trades_file(sim_dir: Path, product: str) -> Path:
    return sim_dir / "cme" / f"{product}.trades.dbn.zst"


def _truth_of(truth: pd.DataFrame, pair: str) -> pd.DataFrame:
    return truth[(truth["pair"] == pair) & (truth["cme_open"] == 1)].set_index("minute")


# --------------------------------------------------------------------------- simulated market vs truth


@pytest.mark.parametrize("pair", list(PRODUCTS))
def test_replayed_volume_and_trade_count_equal_the_truth_for_every_minute(
    pair: str, sim_dir: Path, sim_truth: pd.DataFrame
) -> None:
    candles, bars, records = _replay([_mbp(sim_dir, PRODUCTS[pair])])
    truth = _truth_of(sim_truth, pair)
    by_minute = {pd.Timestamp(c.timestamp): c for c in candles}
    assert records == db.DBNStore.from_file(_mbp(sim_dir, PRODUCTS[pair])).to_ndarray().shape[0]
    assert len(truth) > 60
    assert set(by_minute) == set(truth.index), "one candle for every open minute, none for closed ones"
    for minute, row in truth.iterrows():
        candle = by_minute[minute]
        assert candle.volume == row["cme_volume"], minute
        assert candle.trade_count == row["cme_trades"], minute
    assert sum(c.volume for c in candles) == truth["cme_volume"].sum() > 0
    assert bars.stats.candles == len(candles)


@pytest.mark.parametrize("pair", ["EUR_USD", "GBP_USD"])
def test_replayed_aggressor_volume_equals_the_truth(
    pair: str, sim_dir: Path, sim_truth: pd.DataFrame
) -> None:
    candles, _, _ = _replay([_mbp(sim_dir, PRODUCTS[pair])])
    truth = _truth_of(sim_truth, pair)
    for candle in candles:
        row = truth.loc[pd.Timestamp(candle.timestamp)]
        assert (candle.buy_volume, candle.sell_volume) == (row["cme_buy_volume"], row["cme_sell_volume"])


def test_usd_jpy_aggressor_volume_is_the_6j_truth_flipped(sim_dir: Path, sim_truth: pd.DataFrame) -> None:
    candles, _, _ = _replay([_mbp(sim_dir, "6J")])
    truth = _truth_of(sim_truth, "USD_JPY")  # truth is in futures terms: buyers of 6J bought yen
    assert any(c.buy_volume for c in candles)
    for candle in candles:
        row = truth.loc[pd.Timestamp(candle.timestamp)]
        assert candle.buy_volume == row["cme_sell_volume"]
        assert candle.sell_volume == row["cme_buy_volume"]


@pytest.mark.parametrize("price", ["mid", "trade"])
def test_6j_candles_are_usd_jpy_around_150(sim_dir: Path, price: str) -> None:
    candles, _, _ = _replay([_mbp(sim_dir, "6J")], BarSpec(price=price))  # type: ignore[arg-type]
    assert {c.symbol for c in candles} == {"USD_JPY"}
    assert {c.instrument for c in candles} == {"6JZ5"}
    for c in candles:
        assert 130 < c.low <= c.high < 170
        if price == "trade" and c.vwap is not None:  # a VWAP lies within the minute's trade prices
            assert c.low * (1 - 1e-12) <= c.vwap <= c.high * (1 + 1e-12)
        assert c.avg_spread_pips is not None
        assert 0 < c.avg_spread_pips < 5  # one or two 6J ticks are ~0.1 JPY pips here


def test_no_candles_in_the_cme_daily_break(sim_dir: Path) -> None:
    for product in PRODUCTS.values():
        candles, _, _ = _replay([_mbp(sim_dir, product)])
        times = [c.timestamp for c in candles]
        assert not [t for t in times if BREAK_START <= t < BREAK_END], product
        assert min(times) == SIM_START
        assert max(times) == SIM_START + pd.Timedelta(minutes=SIM_MINUTES - 1)
        assert BREAK_END in times


def test_replayed_candles_are_tagged_databento_real_futures(sim_dir: Path) -> None:
    candles, _, _ = _replay([_mbp(sim_dir, "6E")])
    assert {(c.symbol, c.instrument, c.source, c.volume_type, c.price_basis) for c in candles} == {
        ("EUR_USD", "6EZ5", Source.DATABENTO, VolumeType.REAL, PriceBasis.FUTURES)
    }


def test_trades_file_beside_its_mbp10_file_is_dropped_so_volume_is_not_doubled(sim_dir: Path) -> None:
    kept = open_dbn_files([_trades_file(sim_dir, "6E"), _mbp(sim_dir, "6E")])
    assert [(f.path.name, f.schema) for f in kept] == [("6E.mbp-10.dbn.zst", "mbp-10")]
    alone, _, _ = _replay([_mbp(sim_dir, "6E")])
    both, _, _ = _replay([_mbp(sim_dir, "6E"), _trades_file(sim_dir, "6E")])
    assert both == alone


def test_trades_file_of_another_product_is_kept(sim_dir: Path) -> None:
    kept = open_dbn_files([_mbp(sim_dir, "6E"), _trades_file(sim_dir, "6B")])
    assert sorted(f.schema for f in kept) == ["mbp-10", "trades"]
    candles, _, _ = _replay([_mbp(sim_dir, "6E"), _trades_file(sim_dir, "6B")])
    assert {c.symbol for c in candles} == {"EUR_USD", "GBP_USD"}


def test_trades_file_alone_gives_the_same_volume_as_the_mbp10_file(sim_dir: Path) -> None:
    from_trades, _, _ = _replay([_trades_file(sim_dir, "6B")], BarSpec(price="trade"))
    from_book, _, _ = _replay([_mbp(sim_dir, "6B")], BarSpec(price="trade"))
    pick = [(c.timestamp, c.volume, c.trade_count, c.buy_volume, c.sell_volume, c.vwap) for c in from_book]
    assert [
        (c.timestamp, c.volume, c.trade_count, c.buy_volume, c.sell_volume, c.vwap) for c in from_trades
    ] == pick


def test_three_products_in_one_replay_equal_three_separate_replays(sim_dir: Path) -> None:
    together, _, _ = _replay([_mbp(sim_dir, p) for p in PRODUCTS.values()])
    separate = [c for p in PRODUCTS.values() for c in _replay([_mbp(sim_dir, p)])[0]]
    key = lambda c: (c.timestamp, c.symbol)  # noqa: E731
    assert sorted(together, key=key) == sorted(separate, key=key)


def test_paced_replay_sleeps_for_the_data_time_divided_by_the_speed(
    sim_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:  # the test clock: sleeping moves it, nothing waits
        slept.append(seconds)
        now[0] += seconds

    out: list[Candle] = []
    monkeypatch.setattr(files, "PACED_CHUNK_RECORDS", 500)
    f = open_dbn_files([_mbp(sim_dir, "6E")])
    raw = f[0].store.to_ndarray()
    pacer = Pacer(600.0, sleep=sleep, clock=lambda: now[0])
    replay_files(f, DatabentoBars(out.append), pacer=pacer)
    last_chunk_start = int(raw["ts_event"][(len(raw) - 1) // 500 * 500])
    expected = (last_chunk_start - int(raw["ts_event"][0])) / 1e9 / 600.0
    assert len(slept) > 10
    assert now[0] == pytest.approx(expected, rel=1e-9)
    assert out == _replay([_mbp(sim_dir, "6E")])[0]


# --------------------------------------------------------------------------- damaged and wrong files


def test_truncated_file_raises_data_format_error_naming_it_after_delivering_earlier_candles(
    sim_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The damage is reported as the module promises, under the default warning filters a user has
    (databento only *warns* about a truncated file; pytest's filterwarnings=error must not be what makes
    this pass)."""
    data = _mbp(sim_dir, "6E").read_bytes()
    damaged = tmp_path / "6E-cut.mbp-10.dbn.zst"
    damaged.write_bytes(data[: len(data) // 2])
    monkeypatch.setattr(files, "CHUNK_RECORDS", 1_000)  # several chunks before the damage
    out: list[Candle] = []
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")  # warnings are shown, not raised, as in a user's process
        opened = open_dbn_files([damaged])
        with pytest.raises(DataFormatError, match=re.escape("6E-cut.mbp-10.dbn.zst")):
            replay_files(opened, DatabentoBars(out.append))
    assert out, "the candles built before the damage were handed on"
    assert max(c.timestamp for c in out) < SIM_START + pd.Timedelta(minutes=SIM_MINUTES - 1)


def test_truncated_file_under_warnings_as_errors_raises_data_format_error_and_keeps_earlier_candles(
    sim_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _mbp(sim_dir, "6E").read_bytes()
    damaged = tmp_path / "6E-cut.mbp-10.dbn.zst"
    damaged.write_bytes(data[: len(data) // 2])
    monkeypatch.setattr(files, "CHUNK_RECORDS", 1_000)
    out: list[Candle] = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opened = open_dbn_files([damaged])
        with pytest.raises(DataFormatError, match=r"6E-cut\.mbp-10\.dbn\.zst: .*after [\d,]+ mbp-10 records"):
            replay_files(opened, DatabentoBars(out.append))
    assert out


def test_a_file_cut_inside_its_metadata_raises_data_format_error_naming_it(
    sim_dir: Path, tmp_path: Path
) -> None:
    damaged = tmp_path / "6E-head.mbp-10.dbn.zst"
    damaged.write_bytes(_mbp(sim_dir, "6E").read_bytes()[:40])
    with pytest.raises(DataFormatError, match=re.escape("6E-head.mbp-10.dbn.zst")):
        open_dbn_files([damaged])


@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.parametrize("name", ["prices.csv", "prices.dbn.zst", "prices.dbn"])
def test_a_non_dbn_file_raises_data_format_error_naming_it(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text("timestamp,open,high,low,close,volume\n2025-11-04T14:00:00Z,1.16,1.17,1.15,1.16,10\n")
    with pytest.raises(DataFormatError, match=re.escape(str(path)) + ": not a readable DBN file"):
        open_dbn_files([path])


def test_an_empty_file_raises_data_format_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "empty.dbn.zst"
    path.write_bytes(b"")
    with pytest.raises(DataFormatError, match=re.escape("empty.dbn.zst")):
        open_dbn_files([path])


def test_a_missing_file_raises_data_format_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(DataFormatError, match=re.escape("nowhere.dbn.zst: no such DBN file")):
        open_dbn_files([tmp_path / "nowhere.dbn.zst"])


def test_one_bad_file_fails_the_whole_set_before_any_replay(sim_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(DataFormatError, match="nowhere"):
        open_dbn_files([_mbp(sim_dir, "6E"), tmp_path / "nowhere.dbn.zst"])
