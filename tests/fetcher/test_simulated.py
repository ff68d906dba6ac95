"""The fetcher on a simulated market turned into candles by the real bar builders (no hub process):
basis-adjusted futures sit on spot within about a pip, and hybrid VWAP weights by CME volume."""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fxhub.fetcher import SelectionPolicy, UnifiedDataFetcher
from fxhub.hub.store import SqliteStore
from fxhub.instruments import get_instrument
from fxhub.model import Candle, Source
from fxhub.sim import SimulationConfig, simulate
from fxhub.sources.databento.files import open_dbn_files, replay_files
from fxhub.sources.databento.router import DatabentoBars
from fxhub.sources.ig.replay import IgBars, replay_quotes
from fxhub.sources.ig.vendor_files import read_quotes

START = datetime(2025, 11, 4, 13, 0, tzinfo=UTC)
MINUTES = 120
PAIRS = ("EUR_USD", "USD_JPY")


class _Reader:
    def __init__(self, store: SqliteStore) -> None:
        self.store = store

    def get_latest_candles(
        self, pair: str, limit: int = 100, source: Source | str | None = None
    ) -> list[Candle]:
        return self.store.latest(pair, limit, Source(source) if source else None)

    def get_candles(
        self, pair: str, start: datetime, end: datetime, source: Source | str | None = None
    ) -> list[Candle]:
        return self.store.range(pair, start, end, Source(source) if source else None)


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[_Reader, pd.DataFrame]]:
    out = tmp_path_factory.mktemp("market")
    simulate(SimulationConfig(start=START, minutes=MINUTES, seed=11, pairs=PAIRS), out)
    candles: list[Candle] = []
    replay_files(
        open_dbn_files(sorted((out / "cme").glob("*.mbp-10.dbn.zst"))), DatabentoBars(candles.append)
    )
    readers = [read_quotes(path) for path in sorted((out / "ig").glob("*.ticks.csv"))]
    replay_quotes(heapq.merge(*readers, key=lambda item: item[0].ts_event), IgBars(candles.append))
    store = SqliteStore(Path(out) / "hub.sqlite3")
    store.upsert(candles)
    truth = pd.read_csv(out / "truth.csv")
    truth.index = pd.DatetimeIndex(pd.to_datetime(truth["minute_utc"], utc=True), name="timestamp")
    yield _Reader(store), truth
    store.close()


@pytest.mark.parametrize("pair", PAIRS)
def test_basis_adjusted_futures_sit_within_a_pip_of_spot(
    market: tuple[_Reader, pd.DataFrame], pair: str
) -> None:
    reader, truth = market
    pip = get_instrument(pair).pip_size
    raw = UnifiedDataFetcher(reader, policy="databento").get_market_data(pair, bars=60)
    policy = SelectionPolicy(policy="databento", basis_adjust=True)
    adjusted = UnifiedDataFetcher(reader, policy=policy).get_market_data(pair, bars=60)
    assert raw["price_basis"] == "futures"
    assert adjusted["price_basis"] == "futures, basis-adjusted to spot"
    spot = truth[truth["pair"] == pair]["spot_close"]
    closes = adjusted["candles"]["close"]
    error_pips = np.abs(closes.to_numpy() - spot.reindex(closes.index).to_numpy()) / pip
    raw_pips = np.abs(raw["candles"]["close"].to_numpy() - spot.reindex(closes.index).to_numpy()) / pip
    assert np.median(raw_pips) > 5  # the futures basis really is tens of pips away
    assert np.median(error_pips) < 0.6, error_pips
    assert np.percentile(error_pips, 95) < 1.2, error_pips
    measured = adjusted["basis"]["basis_pips"]
    truth_basis = float(truth[truth["pair"] == pair]["basis_pips"].dropna().iloc[-1])
    assert measured == pytest.approx(truth_basis, abs=1.0)


def test_hybrid_vwap_uses_cme_volume_on_spot_prices(market: tuple[_Reader, pd.DataFrame]) -> None:
    reader, truth = market
    hybrid = UnifiedDataFetcher(reader, policy="hybrid").get_market_data("EUR_USD", bars=60)
    ig = UnifiedDataFetcher(reader, policy="ig").get_market_data("EUR_USD", bars=60)
    candles = hybrid["candles"]
    cme = truth[truth["pair"] == "EUR_USD"]["cme_volume"].reindex(candles.index)
    real = candles["volume_type"] == "real"
    assert real.all()  # CME traded every minute of this simulated afternoon
    assert candles["volume"].tolist() == cme.astype(float).tolist()
    assert candles["close"].tolist() == ig["candles"]["close"].tolist()  # spot prices
    assert hybrid["indicators"]["vwap_type"] == "true_vwap"
    assert ig["indicators"]["vwap_type"] == "twap"
    # Session VWAP by hand: every IG minute since the FX day's start (the whole simulation), TP of the spot
    # candle weighted by the CME volume of the same minute.
    spot = reader.get_latest_candles("EUR_USD", 10_000, Source.IG)
    volume = {c.timestamp: c.volume for c in reader.get_latest_candles("EUR_USD", 10_000, Source.DATABENTO)}
    tp = np.array([(c.high + c.low + c.close) / 3 for c in spot])
    weights = np.array([volume.get(c.timestamp, 0.0) for c in spot])
    assert hybrid["indicators"]["vwap"] == pytest.approx(
        float((tp * weights).sum() / weights.sum()), rel=1e-12
    )
    assert hybrid["indicators"]["vwap"] != pytest.approx(ig["indicators"]["vwap"], rel=0, abs=1e-9)
