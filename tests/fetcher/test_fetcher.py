"""`UnifiedDataFetcher.get_market_data` over an in-process SQLite store: frames, labels, warm-up, hybrid."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest

from fxhub.errors import ValidationError
from fxhub.fetcher import NoMarketDataError, SelectionPolicy, UnifiedDataFetcher
from fxhub.model import Source

Fill = Callable[..., Any]
HISTORY = 1500  # minutes of both sources before the window: more than warm-up plus the session


def test_full_databento_is_chosen_with_real_volume_and_futures_basis(fill: Fill, mk: Any) -> None:
    reader = fill(ig=range(-HISTORY, 60), db=range(-HISTORY, 60))
    result = UnifiedDataFetcher(reader).get_market_data("EUR_USD", bars=60)
    candles = result["candles"]
    assert isinstance(candles, pd.DataFrame)
    assert len(candles) == 60
    assert candles.index[0] == mk.t0
    assert candles.index[-1] == mk.t0 + timedelta(minutes=59)
    assert str(pd.DatetimeIndex(candles.index).tz) == "UTC"
    assert set(candles["volume_source"]) == {"DATABENTO (real)"}
    assert set(candles["volume_type"]) == {"real"}
    assert set(candles["price_basis"]) == {"futures"}
    for column in ("open", "high", "low", "close", "volume", "buy_volume", "sell_volume", "instrument"):
        assert column in candles.columns
    assert candles["volume"].tolist() == [mk.db(m).volume for m in range(60)]
    assert result["volume_source"] == "DATABENTO (real)"
    assert result["volume_type"] == "real"
    assert result["price_basis"] == "futures"
    assert result["indicators"]["vwap_type"] == "true_vwap"
    assert result["as_of"] == mk.t0 + timedelta(minutes=59)
    assert result["pair"] == "EUR_USD"
    selection = result["selection"]
    assert selection["chosen"] == "DATABENTO"
    assert selection["policy"] == "auto"
    assert selection["threshold"] == 0.5
    assert selection["coverage"]["DATABENTO"]["minutes"] == 60
    assert selection["coverage"]["IG"]["minutes"] == 60
    assert "60/60" in selection["reason"]


@pytest.mark.parametrize(("db_minutes", "chosen"), [(29, "IG"), (30, "DATABENTO"), (31, "DATABENTO")])
def test_the_window_never_mixes_sources_around_the_threshold(
    fill: Fill, mk: Any, db_minutes: int, chosen: str
) -> None:
    reader = fill(ig=range(-HISTORY, 60), db=range(60 - db_minutes, 60))
    result = UnifiedDataFetcher(reader).get_market_data("EUR_USD", bars=60)
    candles = result["candles"]
    expected = "DATABENTO (real)" if chosen == "DATABENTO" else "IG (tick)"
    assert result["selection"]["chosen"] == chosen
    assert set(candles["volume_source"]) == {expected}
    assert result["volume_source"] == expected
    assert len(candles) == (db_minutes if chosen == "DATABENTO" else 60)
    assert result["indicators"]["vwap_type"] == ("true_vwap" if chosen == "DATABENTO" else "twap")
    # Prices of one basis only: futures sit BASIS above spot, so no IG price may slip in, or vice versa.
    spot = np.array([mk.spot(int((t - mk.t0) / timedelta(minutes=1))) for t in candles.index])
    offset = candles["open"].to_numpy() - spot
    assert np.allclose(offset, mk.basis if chosen == "DATABENTO" else 0.0, atol=1e-9)


def test_missing_databento_falls_back_to_ig_spot_with_twap(fill: Fill) -> None:
    result = UnifiedDataFetcher(fill(ig=range(-HISTORY, 60))).get_market_data("EUR_USD")
    assert result["selection"]["chosen"] == "IG"
    assert result["volume_source"] == "IG (tick)"
    assert result["volume_type"] == "tick"
    assert result["price_basis"] == "spot"
    assert set(result["candles"]["price_basis"]) == {"spot"}
    assert result["indicators"]["vwap_type"] == "twap"


def test_a_source_stopping_mid_window_is_reported_and_served_alone(fill: Fill, mk: Any) -> None:
    reader = fill(ig=range(-HISTORY, 90), db=range(-HISTORY, 60))  # DATABENTO stopped 30 minutes ago
    result = UnifiedDataFetcher(reader).get_market_data("EUR_USD", bars=60)
    assert result["selection"]["chosen"] == "DATABENTO"
    assert result["as_of"] == mk.t0 + timedelta(minutes=89)
    assert len(result["candles"]) == 30
    assert result["candles"].index[-1] == mk.t0 + timedelta(minutes=59)
    assert "30 min before the window end" in result["selection"]["reason"]


def test_gaps_are_not_filled_in(fill: Fill) -> None:
    db = [m for m in range(-HISTORY, 60) if not 10 <= m < 20]
    result = UnifiedDataFetcher(fill(ig=range(-HISTORY, 60), db=db)).get_market_data("EUR_USD", bars=60)
    assert result["selection"]["coverage"]["DATABENTO"]["minutes"] == 50
    assert len(result["candles"]) == 50


class _Reader:
    def __init__(self, store: Any) -> None:
        self.store = store

    def get_latest_candles(self, pair: str, limit: int = 100, source: Any = None) -> list[Any]:
        return list(self.store.latest(pair, limit, source))

    def get_candles(self, pair: str, start: Any, end: Any, source: Any = None) -> list[Any]:
        return list(self.store.range(pair, start, end, source))


def test_indicators_do_not_depend_on_where_the_history_starts(tmp_path: Any, mk: Any) -> None:
    from fxhub.hub.store import SqliteStore

    results = []
    for name, history in (("short", HISTORY), ("long", HISTORY + 700)):
        store = SqliteStore(tmp_path / f"{name}.sqlite3")
        store.upsert([mk.db(m) for m in range(-history, 60)] + [mk.ig(m) for m in range(-history, 60)])

        results.append(UnifiedDataFetcher(_Reader(store)).get_market_data("EUR_USD", bars=60)["indicators"])
        store.close()
    short, long = results
    assert short.keys() == long.keys()
    for key, value in short.items():
        if isinstance(value, float):
            assert value == pytest.approx(long[key], rel=1e-9, abs=1e-12), key


def test_warm_up_rows_are_read_before_the_window(fill: Fill) -> None:
    reader = fill(ig=range(-HISTORY, 60), db=range(-HISTORY, 60))
    fetcher = UnifiedDataFetcher(reader)
    fetcher.get_market_data("EUR_USD", bars=60)
    first, second, *extension = [args for kind, args in reader.calls if kind == "latest"]
    assert {first[1], second[1]} == {60 + fetcher.warmup}
    assert {first[2], second[2]} == {Source.DATABENTO, Source.IG}
    # The window's session began before the warm-up rows: one longer latest read of the chosen source
    # reaches back to it (a hub serves those from memory), no range read.
    assert [args[2] for args in extension] == [Source.DATABENTO]
    assert extension[0][1] > 60 + fetcher.warmup
    assert extension[0][1] % 240 == 0  # the same request for hours: the hub client keeps its page
    assert [kind for kind, _ in reader.calls].count("range") == 0


def test_the_next_call_reads_back_to_the_session_start_in_one_request_per_source(fill: Fill, mk: Any) -> None:
    reader = fill(ig=range(-HISTORY, 60), db=range(-HISTORY, 60))
    fetcher = UnifiedDataFetcher(reader)
    fetcher.get_market_data("EUR_USD", bars=60)
    extension = [args for kind, args in reader.calls if kind == "latest"][-1]
    reader.push([mk.db(60), mk.ig(60)])  # a new minute, as a polling strategy sees it
    reader.calls.clear()
    polled = fetcher.get_market_data("EUR_USD", bars=60)
    reads = [args for kind, args in reader.calls if kind == "latest"]
    assert sorted((args[2].value, args[1]) for args in reads) == [
        ("DATABENTO", extension[1]),  # what the extension asked last time, at once
        ("IG", 60 + fetcher.warmup),
    ]
    fresh = UnifiedDataFetcher(reader).get_market_data("EUR_USD", bars=60)
    assert polled["candles"].equals(fresh["candles"])
    assert polled["indicators"] == fresh["indicators"]


def test_a_session_extension_that_raced_many_new_candles_falls_back_to_a_range_read(
    fill: Fill, mk: Any
) -> None:
    reader = fill(ig=range(-HISTORY, 60), db=range(-HISTORY, 60))
    plain = UnifiedDataFetcher(reader).get_market_data("EUR_USD", bars=60)
    latest = reader.get_latest_candles

    def racing(pair: str, limit: int = 100, source: Any = None) -> list[Any]:
        if limit > 60 + 419:  # the extension read: 300 minutes were pushed since the first read, more
            reader.push([mk.db(m) for m in range(60, 360)])  # than its rounding up to 240 and slack of 5
        return latest(pair, limit, source)

    reader.get_latest_candles = racing  # type: ignore[method-assign]
    raced = UnifiedDataFetcher(reader).get_market_data("EUR_USD", bars=60)
    assert [kind for kind, _ in reader.calls].count("range") == 1
    assert raced["candles"].equals(plain["candles"])
    assert raced["indicators"] == plain["indicators"]


def test_single_source_policies_read_one_source(fill: Fill) -> None:
    reader = fill(ig=range(-HISTORY, 60), db=range(-HISTORY, 60))
    result = UnifiedDataFetcher(reader, policy="ig").get_market_data("EUR_USD", bars=30)
    assert result["selection"]["chosen"] == "IG"
    assert len(result["candles"]) == 30
    assert {args[2] for kind, args in reader.calls if kind == "latest"} == {Source.IG}


def test_hybrid_puts_cme_volume_on_ig_minutes_and_flags_tick_only_minutes(fill: Fill, mk: Any) -> None:
    db = [m for m in range(-HISTORY, 60) if m not in (5, 6, 40)]
    reader = fill(ig=range(-HISTORY, 60), db=db)
    result = UnifiedDataFetcher(reader, policy="hybrid").get_market_data("EUR_USD", bars=60)
    candles = result["candles"]
    assert result["selection"]["chosen"] == "HYBRID"
    assert result["price_basis"] == "spot"
    assert result["volume_source"] == "DATABENTO (real)"
    assert result["indicators"]["vwap_type"] == "true_vwap"
    assert len(candles) == 60
    tick_only = [mk.t0 + timedelta(minutes=m) for m in (5, 6, 40)]
    assert result["selection"]["tick_only_minutes"] == tick_only
    assert result["selection"]["real_volume_minutes"] == 57
    for t, row in candles.iterrows():
        minute = int((t - mk.t0) / timedelta(minutes=1))
        assert row["close"] == pytest.approx(mk.ig(minute).close)  # spot prices
        if t in tick_only:
            assert (row["volume_type"], row["volume_source"]) == ("tick", "IG (tick)")
            assert row["volume"] == mk.ig(minute).volume
        else:
            assert (row["volume_type"], row["volume_source"]) == ("real", "DATABENTO (real)")
            assert row["volume"] == mk.db(minute).volume
        assert row["tick_volume"] == mk.ig(minute).volume


def test_basis_adjustment_moves_futures_onto_spot(fill: Fill, mk: Any) -> None:
    reader = fill(ig=range(-HISTORY, 60), db=range(-HISTORY, 60))
    policy = SelectionPolicy(basis_adjust=True)
    result = UnifiedDataFetcher(reader, policy=policy).get_market_data("EUR_USD", bars=60)
    candles = result["candles"]
    assert result["price_basis"] == "futures, basis-adjusted to spot"
    assert set(candles["price_basis"]) == {"futures, basis-adjusted to spot"}
    assert result["volume_source"] == "DATABENTO (real)"  # still futures volume
    assert result["basis"]["adjusted"] is True
    assert result["basis"]["basis_pips"] == pytest.approx(mk.basis / 0.0001, abs=1e-6)
    spot = np.array([mk.ig(int((t - mk.t0) / timedelta(minutes=1))).close for t in candles.index])
    assert np.allclose(candles["close"].to_numpy(), spot, atol=1e-9)


def test_basis_adjustment_without_overlap_says_it_stayed_on_futures(fill: Fill) -> None:
    reader = fill(ig=range(-HISTORY, -1000), db=range(-HISTORY, 60))
    policy = SelectionPolicy(basis_adjust=True)
    result = UnifiedDataFetcher(reader, policy=policy).get_market_data("EUR_USD", bars=60)
    assert result["price_basis"] == "futures"
    assert result["basis"]["adjusted"] is False
    assert "overlap" in result["basis"]["why"]


def test_no_data_is_a_clear_error_naming_the_pair(fill: Fill) -> None:
    reader = fill(ig=range(60))
    with pytest.raises(NoMarketDataError, match="GBP_USD"):
        UnifiedDataFetcher(reader).get_market_data("GBP_USD")
    with pytest.raises(NoMarketDataError, match="DATABENTO"):
        UnifiedDataFetcher(reader, policy="databento").get_market_data("EUR_USD")


@pytest.mark.parametrize("bars", [0, -1, True, 2.5, 10**6])
def test_bad_bars_are_refused(fill: Fill, bars: Any) -> None:
    with pytest.raises(ValidationError, match="bars"):
        UnifiedDataFetcher(fill(ig=range(5))).get_market_data("EUR_USD", bars=bars)


def test_default_hub_comes_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FXHUB_URL", "http://127.0.0.1:59999")
    monkeypatch.setenv("FXHUB_TOKEN", "t" * 32)
    with UnifiedDataFetcher() as fetcher:
        assert getattr(fetcher.hub, "url", None) == "http://127.0.0.1:59999"
