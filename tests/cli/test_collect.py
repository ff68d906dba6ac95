"""`fxhub collect databento|ig --file` as a user runs them: real processes, a real hub, simulated files."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from cli_support import run_fxhub
from historical_gateway import HISTORICAL_API_KEY, HistoricalGateway, make_tls_files

from fxhub.hub.client import connect_to_data_hub
from fxhub.model import Source
from fxhub.sim import SimulationConfig, simulate

START = datetime(2025, 11, 4, 13, 0, tzinfo=UTC)
MINUTES = 30
PRODUCTS = {"EUR_USD": "6E", "GBP_USD": "6B", "USD_JPY": "6J"}


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("market")
    simulate(SimulationConfig(start=START, minutes=MINUTES, seed=3), out)
    return out


def test_collect_databento_file_fills_the_hub_with_real_volume_equal_to_truth(
    hub_process: Callable[..., Any], market: Path, tmp_path: Path
) -> None:
    hub = hub_process()
    files = sorted(str(p) for p in (market / "cme").glob("*.dbn.zst"))  # mbp-10 and trades: counted once
    result = run_fxhub(
        ["collect", "databento", "--file", *files], hub, tmp_path, outbox=tmp_path / "outbox.sqlite3"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 left in the outbox" in result.stdout
    truth = pd.read_csv(market / "truth.csv")
    with connect_to_data_hub(hub.url, hub.token) as client:
        for pair in ("EUR_USD", "GBP_USD", "USD_JPY"):
            candles = client.get_latest_candles(pair, limit=MINUTES, source=Source.DATABENTO)
            expected = truth[truth["pair"] == pair]["cme_volume"].tolist()
            assert [c.volume for c in candles] == expected
            assert all(c.volume_type == "real" and c.price_basis == "futures" for c in candles)


def test_collect_databento_historical_downloads_from_the_historical_api_and_fills_the_hub(
    hub_process: Callable[..., Any], market: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tls = make_tls_files(tmp_path)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls.cert))  # the stand-in's self-signed certificate
    monkeypatch.setenv("DATABENTO_API_KEY", HISTORICAL_API_KEY)
    hub = hub_process()
    first, end = START + timedelta(minutes=5), START + timedelta(minutes=25)
    with HistoricalGateway(sorted((market / "cme").glob("*.dbn.zst")), tls) as gateway:
        args = ["collect", "databento", "--historical", "2025-11-04T13:05:00Z", "2025-11-04T13:25:00Z"]
        args += ["--cache", str(tmp_path / "cache"), "--historical-gateway", gateway.url]
        result = run_fxhub(args, hub, tmp_path, outbox=tmp_path / "outbox.sqlite3")
        assert result.returncode == 0, result.stdout + result.stderr
        again = run_fxhub(args, hub, tmp_path, outbox=tmp_path / "outbox.sqlite3")
        assert again.returncode == 0, again.stdout + again.stderr
    assert [(r.schema, r.status) for r in gateway.requests] == [("definition", 200), ("mbp-10", 200)], (
        "the second run replays the cached files"
    )
    assert HISTORICAL_API_KEY not in result.stdout + result.stderr
    truth = pd.read_csv(market / "truth.csv")
    truth["minute"] = pd.to_datetime(truth["minute_utc"], utc=True)
    with connect_to_data_hub(hub.url, hub.token) as client:
        for pair in ("EUR_USD", "GBP_USD", "USD_JPY"):
            candles = client.get_candles(
                pair, START, START + timedelta(minutes=MINUTES), source=Source.DATABENTO
            )
            assert [c.timestamp for c in candles] == [first + timedelta(minutes=i) for i in range(20)]
            span = truth[(truth["pair"] == pair) & (truth["minute"] >= first) & (truth["minute"] < end)]
            assert [c.volume for c in candles] == span["cme_volume"].tolist()
            assert all(c.volume_type == "real" for c in candles)
            assert {c.instrument for c in candles} == {PRODUCTS[pair] + "Z5"}, "the front contract only"


def test_collect_ig_file_fills_the_hub_with_tick_volume_equal_to_quote_counts(
    hub_process: Callable[..., Any], market: Path, tmp_path: Path
) -> None:
    hub = hub_process()
    files = sorted(str(p) for p in (market / "ig").glob("*.ticks.csv"))
    result = run_fxhub(["collect", "ig", "--file", *files], hub, tmp_path, outbox=tmp_path / "outbox.sqlite3")
    assert result.returncode == 0, result.stdout + result.stderr
    truth = pd.read_csv(market / "truth.csv")
    with connect_to_data_hub(hub.url, hub.token) as client:
        for pair in ("EUR_USD", "GBP_USD", "USD_JPY"):
            candles = client.get_latest_candles(pair, limit=MINUTES, source=Source.IG)
            assert [c.volume for c in candles] == truth[truth["pair"] == pair]["ig_quotes"].tolist()
            assert all(c.volume_type == "tick" and c.price_basis == "spot" for c in candles)


def test_collect_databento_refuses_two_modes_and_names_them(
    hub_process: Callable[..., Any], tmp_path: Path
) -> None:
    hub = hub_process()
    result = run_fxhub(
        ["collect", "databento", "--file", "x.dbn", "--live"],
        hub,
        tmp_path,
        outbox=tmp_path / "outbox.sqlite3",
    )
    assert result.returncode == 2
    assert "exactly one of --file, --historical, --live" in result.stderr


def test_collect_ig_on_an_unknown_file_format_names_the_file(
    hub_process: Callable[..., Any], tmp_path: Path
) -> None:
    hub = hub_process()
    odd = tmp_path / "odd.csv"
    odd.write_text("hello,world\n")
    result = run_fxhub(
        ["collect", "ig", "--file", str(odd)], hub, tmp_path, outbox=tmp_path / "outbox.sqlite3"
    )
    assert result.returncode == 2
    assert str(odd) in result.stderr
