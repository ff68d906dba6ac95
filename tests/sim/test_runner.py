"""`simulate` end to end: real DBN the databento client reads, IG recordings, and honest ground truth."""

from __future__ import annotations

import hashlib
import warnings
from datetime import UTC, datetime
from pathlib import Path

import databento as db
import numpy as np
import pandas as pd
import pytest

from fxhub.errors import ValidationError
from fxhub.instruments import get_instrument
from fxhub.sim import SimulationConfig, SimulationResult, simulate
from fxhub.sources.ig.recording import read_recording

F_LAST = 0x80


def _records(path: Path) -> pd.DataFrame:
    with warnings.catch_warnings():  # pandas 3 deprecations raised inside databento's to_df
        warnings.simplefilter("ignore")
        return db.DBNStore.from_file(path).to_df()


def test_simulate_writes_mbp10_for_the_three_front_contracts(break_market: SimulationResult) -> None:
    for product, contract in (("6E", "6EZ5"), ("6B", "6BZ5"), ("6J", "6JZ5")):
        store = db.DBNStore.from_file(break_market.out_dir / "cme" / f"{product}.mbp-10.dbn.zst")
        assert store.schema == db.Schema.MBP_10
        assert store.dataset == "GLBX.MDP3"
        frame = _records(break_market.out_dir / "cme" / f"{product}.mbp-10.dbn.zst")
        assert len(frame) > 1000
        assert set(frame["symbol"]) == {contract}
        assert set(frame["action"]) <= {"A", "C", "M", "T"}


def test_simulate_writes_no_cme_records_in_the_daily_break(break_market: SimulationResult) -> None:
    for product in ("6E", "6B", "6J"):
        frame = _records(break_market.out_dir / "cme" / f"{product}.mbp-10.dbn.zst")
        times = frame["ts_event"]
        in_break = (times >= pd.Timestamp("2025-11-03T22:00Z")) & (times < pd.Timestamp("2025-11-03T23:00Z"))
        assert not in_break.any()
        assert (times >= pd.Timestamp("2025-11-03T23:00Z")).any(), "the market reopens at 23:00 UTC"


def test_simulate_trades_only_at_valid_ticks_and_inside_the_book(break_market: SimulationResult) -> None:
    for pair in ("EUR_USD", "GBP_USD", "USD_JPY"):
        cme = get_instrument(pair).cme
        assert cme is not None
        store = db.DBNStore.from_file(break_market.out_dir / "cme" / f"{cme.product}.mbp-10.dbn.zst")
        raw = store.to_ndarray()
        trades = raw[raw["action"] == b"T"]
        tick = round(cme.tick_size * 1e9)
        assert len(trades) > 50
        assert np.all(trades["price"] % tick == 0)
        # A trade's levels are the book before it: buys lift the offer, sells hit the bid.
        buys, sells = trades[trades["side"] == b"B"], trades[trades["side"] == b"A"]
        assert np.array_equal(buys["price"], buys["ask_px_00"])
        assert np.array_equal(sells["price"], sells["bid_px_00"])


def test_simulate_books_are_never_crossed_after_f_last(break_market: SimulationResult) -> None:
    raw = db.DBNStore.from_file(break_market.out_dir / "cme" / "6E.mbp-10.dbn.zst").to_ndarray()
    last = raw[(raw["flags"] & F_LAST) != 0]
    assert np.all(last["bid_px_00"] < last["ask_px_00"])
    for i in range(1, 10):
        assert np.all(last[f"bid_px_{i:02d}"] < last[f"bid_px_{i - 1:02d}"])
        assert np.all(last[f"ask_px_{i:02d}"] > last[f"ask_px_{i - 1:02d}"])
    assert np.all(last["bid_sz_00"] > 0)
    assert np.all(last["ask_sz_00"] > 0)


def test_simulate_trades_file_carries_the_same_trades_as_mbp10(break_market: SimulationResult) -> None:
    mbp = db.DBNStore.from_file(break_market.out_dir / "cme" / "6B.mbp-10.dbn.zst").to_ndarray()
    trades_store = db.DBNStore.from_file(break_market.out_dir / "cme" / "6B.trades.dbn.zst")
    assert trades_store.schema == db.Schema.TRADES
    trades = trades_store.to_ndarray()
    in_mbp = mbp[mbp["action"] == b"T"]
    for name in ("ts_event", "price", "size", "side", "sequence", "instrument_id"):
        assert np.array_equal(trades[name], in_mbp[name]), name


def test_simulate_volume_in_dbn_matches_ground_truth(break_market: SimulationResult) -> None:
    truth = pd.read_csv(break_market.out_dir / "truth.csv")
    frame = _records(break_market.out_dir / "cme" / "6E.mbp-10.dbn.zst")
    trades = frame[frame["action"] == "T"]
    per_minute = trades.groupby(trades["ts_event"].dt.floor("min"))["size"].sum()
    eur = truth[(truth["pair"] == "EUR_USD") & (truth["cme_volume"] > 0)]
    expected = pd.Series(eur["cme_volume"].to_numpy(), index=pd.to_datetime(eur["minute_utc"]))
    assert per_minute.to_dict() == expected.to_dict()
    buys = trades[trades["side"] == "B"]["size"].sum()
    assert buys == truth[truth["pair"] == "EUR_USD"]["cme_buy_volume"].sum()


def test_simulate_futures_sit_at_spot_plus_basis_with_the_right_sign(break_market: SimulationResult) -> None:
    truth = pd.read_csv(break_market.out_dir / "truth.csv").dropna(subset=["basis_pips"])
    by_pair = truth.groupby("pair")["basis_pips"].mean()
    assert 10 < by_pair["EUR_USD"] < 60  # EUR rates below USD rates: futures above spot
    assert 5 < by_pair["GBP_USD"] < 60
    assert by_pair["USD_JPY"] < -50  # JPY rates far below USD: USD_JPY forward below spot
    # The 6J book, inverted to USD_JPY, sits at spot plus that (negative) basis.
    raw = db.DBNStore.from_file(break_market.out_dir / "cme" / "6J.mbp-10.dbn.zst").to_ndarray()
    mid_6j = (raw["bid_px_00"].astype(float) + raw["ask_px_00"]) / 2e9
    implied = 1.0 / mid_6j.mean()
    jpy = truth[truth["pair"] == "USD_JPY"]
    spot = jpy["spot_close"].mean()
    assert 130 < implied < 160
    assert abs((implied - spot) / 0.01 - jpy["basis_pips"].mean()) < 20


def test_simulate_ig_recordings_read_back_in_order_with_counts_matching_truth(
    break_market: SimulationResult,
) -> None:
    truth = pd.read_csv(break_market.out_dir / "truth.csv")
    for pair in ("EUR_USD", "GBP_USD", "USD_JPY"):
        ticks = list(read_recording(break_market.out_dir / "ig" / f"{pair}.ticks.csv"))
        assert {t.pair for t in ticks} == {pair}
        assert all(t.bid < t.offer for t in ticks)
        assert len(ticks) == truth[truth["pair"] == pair]["ig_quotes"].sum()
        spread_pips = np.median([(t.offer - t.bid) / get_instrument(pair).pip_size for t in ticks])
        assert 0.3 < spread_pips < 3.0


def test_simulate_same_seed_gives_same_bytes_and_another_seed_differs(tmp_path: Path) -> None:
    start = datetime(2025, 11, 4, 13, 0, tzinfo=UTC)

    def digest(folder: Path, seed: int) -> dict[str, str]:
        result = simulate(SimulationConfig(start=start, minutes=5, seed=seed), folder)
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in result.files}

    first, again, other = digest(tmp_path / "a", 3), digest(tmp_path / "b", 3), digest(tmp_path / "c", 4)
    assert first == again
    assert first["6E.mbp-10.dbn.zst"] != other["6E.mbp-10.dbn.zst"]


def test_simulate_real_volume_and_quote_counts_correlate_but_are_not_proportional(busy_day_eur: Path) -> None:
    truth = pd.read_csv(busy_day_eur / "truth.csv")
    open_ = truth[(truth["cme_open"] == 1) & (truth["cme_volume"] > 0)]
    correlation = np.corrcoef(open_["cme_volume"], open_["ig_quotes"])[0, 1]
    assert 0.3 < correlation < 0.95
    ratio = open_["cme_volume"] / open_["ig_quotes"].clip(lower=1)
    assert ratio.std() / ratio.mean() > 0.3  # far from a constant multiple
    hourly = truth.groupby(pd.to_datetime(truth["minute_utc"]).dt.hour)["ig_quotes"].sum()
    assert hourly[14] > 3 * hourly[4], "the London–New York overlap is busier than late Asia"


def test_simulation_config_refuses_naive_start_and_bad_minutes() -> None:
    with pytest.raises(ValidationError, match="timezone-aware"):
        SimulationConfig(start=datetime(2025, 11, 3, 21, 0), minutes=5)
    with pytest.raises(ValidationError, match="minutes"):
        SimulationConfig(start=datetime(2025, 11, 3, 21, 0, tzinfo=UTC), minutes=0)
