"""`download_range` with the real `databento.Historical` client against the Historical API stand-in.

The stand-in serves the simulated market of `sim_dir` (21:00–23:30 UTC on 2025-11-03) over HTTPS on
loopback, with GLBX's daily definition snapshot at midnight and the data filtered on `ts_recv`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import databento as db
import pandas as pd
import pytest
from historical_gateway import HISTORICAL_API_KEY, HistoricalGateway

from fxhub.errors import ConfigError, FxhubError
from fxhub.model import Candle
from fxhub.settings import Secret
from fxhub.sources.databento.files import open_dbn_files, replay_files
from fxhub.sources.databento.historical import HistoricalRequest, download_range
from fxhub.sources.databento.router import DatabentoBars

START = datetime(2025, 11, 3, 21, 10, tzinfo=UTC)  # in `sim_dir`; the CME is open until the 22:00 break
END = START + timedelta(minutes=30)
PARENTS = ["6E.FUT", "6B.FUT", "6J.FUT"]
OUTRIGHTS = ["6BH6", "6BZ5", "6EH6", "6EZ5", "6JH6", "6JZ5"]  # front and next quarter, no spread
KEY = Secret(HISTORICAL_API_KEY)


@pytest.fixture
def gateway(historical_gateway: Callable[..., HistoricalGateway], sim_dir: Path) -> HistoricalGateway:
    return historical_gateway(sorted((sim_dir / "cme").glob("*.dbn.zst")))


def replay(paths: list[Path]) -> dict[tuple[str, datetime], dict[str, Any]]:
    """Candles of the files, the last one per (symbol, minute), as plain values."""
    candles: list[Candle] = []
    replay_files(open_dbn_files(paths), DatabentoBars(candles.append))
    return {(c.symbol, c.timestamp): c.to_dict() for c in candles}


def in_span(
    candles: dict[tuple[str, datetime], dict[str, Any]],
) -> dict[tuple[str, datetime], dict[str, Any]]:
    return {key: value for key, value in candles.items() if START <= key[1] < END}


def test_download_range_asks_for_definitions_then_the_outright_contracts_and_caches_both(
    gateway: HistoricalGateway, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    request = HistoricalRequest(start=START, end=END)

    path = download_range(request, KEY, cache, gateway=gateway.url)

    definition, data = gateway.requests
    for seen in (definition, data):
        assert seen.path == "/v0/timeseries.get_range"
        assert seen.key == HISTORICAL_API_KEY, "Basic auth, the key as user name"
        assert seen.user_agent.startswith("Databento/")
        assert (seen.form["encoding"], seen.form["compression"], seen.status) == ("dbn", "zstd", 200)
        assert seen.form["end"] == END.isoformat()
    assert definition.schema == "definition"
    assert definition.form["stype_in"] == "parent"
    assert definition.symbols == PARENTS
    assert definition.form["start"] == "2025-11-03T00:00:00+00:00", "from the day's midnight snapshot"
    assert definition.records == 3 * 3, "two outrights and a spread per product"
    assert data.schema == "mbp-10"
    assert data.form["stype_in"] == "raw_symbol"
    assert data.symbols == OUTRIGHTS
    assert data.form["start"] == START.isoformat()
    assert data.records > 0

    assert sorted(p.name for p in cache.iterdir()) == sorted(
        [path.name, request.cache_name("definition", PARENTS, start=request.definitions_start)]
    ), "both files cached, no partial download left behind"
    store = db.DBNStore.from_file(path)
    assert str(store.metadata.schema) == "mbp-10"
    assert sorted(store.metadata.mappings) == OUTRIGHTS
    records = store.to_ndarray()
    assert len(records) == data.records
    start_ns, end_ns = pd.Timestamp(START).value, pd.Timestamp(END).value
    assert ((records["ts_recv"] >= start_ns) & (records["ts_recv"] < end_ns)).all()

    assert download_range(request, KEY, cache, gateway=gateway.url) == path
    assert len(gateway.requests) == 2, "a cached range costs no request"


@pytest.mark.parametrize("schema", ["mbp-10", "trades"])
def test_the_downloaded_file_replays_into_the_candles_of_the_simulated_files(
    gateway: HistoricalGateway, sim_dir: Path, sim_truth: pd.DataFrame, tmp_path: Path, schema: str
) -> None:
    request = HistoricalRequest(start=START, end=END, schema=schema)
    path = download_range(request, KEY, tmp_path, gateway=gateway.url)

    got = replay([path])
    expected = in_span(replay(sorted((sim_dir / "cme").glob(f"*.{schema}.dbn.zst"))))
    assert set(got) == set(expected), "a candle per pair and minute of the span, none outside it"
    assert len(expected) == 3 * 30
    for key, candle in expected.items():
        if key[1] == START:
            # The file holds no book before START, so order flow of the first minute starts at its first
            # event; everything else about that minute is the same.
            candle = {name: value for name, value in candle.items() if not name.startswith("ofi")}
            assert {name: got[key].get(name) for name in candle} == candle, key
        else:
            assert got[key] == candle, key
    truth = sim_truth[(sim_truth["minute"] >= START) & (sim_truth["minute"] < END)]
    assert {(row.pair, row.minute): row.cme_volume for row in truth.itertuples()} == {
        key: candle["volume"] for key, candle in got.items()
    }


def test_a_refused_key_raises_a_clear_error_and_caches_nothing(
    gateway: HistoricalGateway, tmp_path: Path
) -> None:
    wrong = "db-ThisKeyIsNotTheOneTheApiKnows0"
    with pytest.raises(FxhubError, match=r"refused definition for 6E\.FUT, 6B\.FUT, 6J\.FUT") as raised:
        download_range(HistoricalRequest(start=START, end=END), Secret(wrong), tmp_path, gateway=gateway.url)
    message = str(raised.value)
    assert "401" in message
    assert "Authentication failed." in message
    assert wrong not in message
    assert [(r.key, r.status) for r in gateway.requests] == [(wrong, 401)]
    assert list(tmp_path.iterdir()) == []


def test_a_definition_answer_without_contracts_names_the_parents_and_the_span(
    gateway: HistoricalGateway, tmp_path: Path
) -> None:
    gateway.empty_definitions = True
    with pytest.raises(
        FxhubError, match=r"lists no outright futures for 6E\.FUT, 6B\.FUT, 6J\.FUT"
    ) as raised:
        download_range(HistoricalRequest(start=START, end=END), KEY, tmp_path, gateway=gateway.url)
    assert "2025-11-03 21:10" in str(raised.value)
    assert [r.schema for r in gateway.requests] == ["definition"], "no data request without contracts"


@pytest.mark.parametrize("url", ["http://127.0.0.1:8443", "127.0.0.1:8443", "https://", "https://h/v0"])
def test_a_gateway_that_is_not_an_https_url_is_a_config_error(url: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="https://"):
        download_range(HistoricalRequest(start=START, end=END), KEY, tmp_path, gateway=url)


def test_a_span_inside_one_day_has_no_definitions_of_its_own(gateway: HistoricalGateway) -> None:
    """Why `download_range` asks for definitions from midnight: GLBX publishes them once a day."""
    client = db.Historical(key=HISTORICAL_API_KEY, gateway=gateway.url)
    kwargs: dict[str, Any] = {"dataset": "GLBX.MDP3", "schema": "definition", "symbols": PARENTS}
    inside = client.timeseries.get_range(**kwargs, stype_in="parent", start=START, end=END)
    from_midnight = client.timeseries.get_range(
        **kwargs, stype_in="parent", start=datetime(2025, 11, 3, tzinfo=UTC), end=END
    )
    assert list(inside) == []
    classes = {r.raw_symbol: str(r.instrument_class) for r in from_midnight}
    assert {raw for raw, kind in classes.items() if kind == "F"} == set(OUTRIGHTS)
    assert {raw for raw, kind in classes.items() if kind == "S"} == {"6BZ5-6BH6", "6EZ5-6EH6", "6JZ5-6JH6"}
