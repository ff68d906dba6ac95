"""Reads, health, metrics and the shared error shape of the hub app, in-process over a SQLite store."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from fxhub.errors import ConfigError, ValidationError
from fxhub.hub.server import routes
from fxhub.hub.server.app import create_app, store_kind
from fxhub.hub.server.config import HubConfig
from fxhub.hub.server.schemas import SYMBOL_PATTERN
from fxhub.hub.store import HotWindowStore, InventoryRow, SqliteStore, StoreError, UpsertResult
from fxhub.model import Candle, Source

pytestmark = pytest.mark.anyio

MakeCandle = Callable[..., dict[str, Any]]


class FailingStore:
    """A store whose database is gone: every call raises `StoreError` (or blocks, when told to)."""

    def __init__(self, *, block: threading.Event | None = None) -> None:
        self.block = block

    def _fail(self) -> Any:
        if self.block is not None:
            self.block.wait(5)
        raise StoreError("the database at sqlite:///gone did not answer: disk I/O error")

    def upsert(self, candles: Sequence[Candle]) -> UpsertResult:
        return self._fail()  # type: ignore[no-any-return]

    def latest(self, symbol: str, limit: int, source: Source | None = None) -> list[Candle]:
        return self._fail()  # type: ignore[no-any-return]

    def range(
        self, symbol: str, start: datetime, end: datetime, source: Source | None = None
    ) -> list[Candle]:
        return self._fail()  # type: ignore[no-any-return]

    def inventory(self) -> list[InventoryRow]:
        return self._fail()  # type: ignore[no-any-return]

    def count(self) -> int:
        return self._fail()  # type: ignore[no-any-return]

    def close(self) -> None:
        pass


async def push(hub: Any, auth: dict[str, str], *candles: dict[str, Any]) -> dict[str, Any]:
    response = await hub.client.post("/v1/candles", json={"candles": list(candles)}, headers=auth)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# --- reads -----------------------------------------------------------------------------------------


async def test_latest_returns_the_newest_oldest_first_with_both_sources_by_timestamp_then_source(
    hub: Any, auth: dict[str, str], make_candle: MakeCandle
) -> None:
    await push(hub, auth, *(make_candle(m, source=s) for m in range(5) for s in ("IG", "DATABENTO")))
    response = await hub.client.get("/v1/candles/EUR_USD/latest?limit=4", headers=auth)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"symbol", "source", "candles"}
    assert (body["symbol"], body["source"]) == ("EUR_USD", None)
    assert [(c["timestamp"][14:16], c["source"]) for c in body["candles"]] == [
        ("03", "DATABENTO"),
        ("03", "IG"),
        ("04", "DATABENTO"),
        ("04", "IG"),
    ]
    assert body["candles"][-1] == make_candle(4, source="IG")  # Candle.to_dict(): the pushed JSON back


async def test_latest_filters_by_source_and_defaults_to_100(
    hub: Any, auth: dict[str, str], make_candle: MakeCandle
) -> None:
    await push(hub, auth, *(make_candle(m, source=s) for m in range(120) for s in ("IG", "DATABENTO")))
    body = (await hub.client.get("/v1/candles/EUR_USD/latest?source=DATABENTO", headers=auth)).json()
    assert body["source"] == "DATABENTO"
    assert len(body["candles"]) == 100
    assert {c["source"] for c in body["candles"]} == {"DATABENTO"}
    assert body["candles"][0]["timestamp"] == "2025-11-04T13:20:00Z"


async def test_latest_through_the_hot_window_reads_its_writes_though_pages_are_kept(
    open_hub: Any, store: SqliteStore, auth: dict[str, str], make_candle: MakeCandle
) -> None:
    async with open_hub(HotWindowStore(store)) as hub:
        await push(hub, auth, *(make_candle(m, source=s) for m in range(5) for s in ("IG", "DATABENTO")))
        for query in ("limit=3", "limit=3&source=IG"):
            first = (await hub.client.get(f"/v1/candles/EUR_USD/latest?{query}", headers=auth)).json()
            again = (await hub.client.get(f"/v1/candles/EUR_USD/latest?{query}", headers=auth)).json()
            assert again == first
            assert first["candles"][-1] == make_candle(4, source="IG")

        revised = make_candle(4, source="IG", volume=99.0, close=1.1009)
        assert (await push(hub, auth, revised))["replaced"] == 1
        for query in ("limit=3", "limit=3&source=IG"):
            body = (await hub.client.get(f"/v1/candles/EUR_USD/latest?{query}", headers=auth)).json()
            assert body["candles"][-1] == revised

        await push(hub, auth, make_candle(5, source="DATABENTO"))
        both = (await hub.client.get("/v1/candles/EUR_USD/latest?limit=3", headers=auth)).json()
        assert [(c["timestamp"][14:16], c["source"]) for c in both["candles"]] == [
            ("04", "DATABENTO"),
            ("04", "IG"),
            ("05", "DATABENTO"),
        ]


@pytest.mark.parametrize("query", ["limit=0", "limit=10001", "limit=x", "source=CME", "source=ig"])
async def test_latest_refuses_bad_parameters_with_422_in_the_error_shape(
    hub: Any, auth: dict[str, str], query: str
) -> None:
    response = await hub.client.get(f"/v1/candles/EUR_USD/latest?{query}", headers=auth)
    assert response.status_code == 422
    body = response.json()
    assert set(body) == {"error", "detail"}
    (item,) = body["detail"]
    assert item["location"] == "query"
    assert item["field"] == query.split("=")[0]
    assert item["value"] == query.split("=")[1]


@pytest.mark.parametrize(
    "path",
    [
        "/v1/candles/EUR_USD/latest?limt=5",
        "/v1/inventory?symbol=EUR_USD",
        "/v1/candles/EUR_USD?start=2025-11-04T13:00:00Z&end=2025-11-04T14:00:00Z&sources=IG",
    ],
)
async def test_unknown_query_parameter_is_422_naming_it_rather_than_ignored(
    hub: Any, auth: dict[str, str], path: str
) -> None:
    response = await hub.client.get(path, headers=auth)
    assert response.status_code == 422
    unknown = path.rsplit("&", 1)[-1].rsplit("?", 1)[-1].split("=")[0]
    assert f"unknown query parameter `{unknown}`" in response.json()["error"]
    assert response.json()["detail"][0]["field"] == unknown


async def test_unknown_query_parameter_on_a_push_is_refused_before_anything_is_stored(
    hub: Any, auth: dict[str, str], make_candle: MakeCandle
) -> None:
    response = await hub.client.post("/v1/candles?dry_run=1", json={"candles": [make_candle()]}, headers=auth)
    assert response.status_code == 422
    assert hub.store.count() == 0


async def test_lower_case_symbol_is_422_naming_the_path_parameter(hub: Any, auth: dict[str, str]) -> None:
    response = await hub.client.get("/v1/candles/eur_usd/latest", headers=auth)
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "symbol"


async def test_range_is_start_inclusive_end_exclusive_and_limited(
    hub: Any, auth: dict[str, str], make_candle: MakeCandle
) -> None:
    await push(hub, auth, *(make_candle(m) for m in range(10)))
    url = "/v1/candles/EUR_USD?start=2025-11-04T13:02:00Z&end=2025-11-04T14:06:00%2B01:00"
    body = (await hub.client.get(url, headers=auth)).json()
    assert [c["timestamp"][14:16] for c in body["candles"]] == ["02", "03", "04", "05"]
    limited = (await hub.client.get(url + "&limit=2&source=IG", headers=auth)).json()
    assert [c["timestamp"][14:16] for c in limited["candles"]] == ["02", "03"]
    assert limited["source"] == "IG"


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        ("start=2025-11-04T13:05:00Z&end=2025-11-04T13:05:00Z", "end", "must be after"),
        ("start=2025-11-04T13:05:00Z&end=2025-11-04T13:00:00Z", "end", "must be after"),
        ("start=2025-11-04T13:00:00&end=2025-11-04T14:00:00Z", "start", "timezone-aware"),
        ("start=yesterday&end=2025-11-04T14:00:00Z", "start", "ISO 8601"),
        ("start=0001-01-01T00:00:00%2B00:01&end=2025-11-04T14:00:00Z", "start", "years 1 to 9999"),
        ("end=2025-11-04T14:00:00Z", "start", "required"),
    ],
)
async def test_range_refuses_bad_bounds_with_422(
    hub: Any, auth: dict[str, str], query: str, field: str, words: str
) -> None:
    response = await hub.client.get(f"/v1/candles/EUR_USD?{query}", headers=auth)
    assert response.status_code == 422
    body = response.json()
    assert body["detail"][0]["field"] == field
    assert words.lower() in (body["error"] + body["detail"][0]["rule"]).lower()


async def test_inventory_lists_each_symbol_and_source_sorted_with_its_volume_type(
    hub: Any, auth: dict[str, str], make_candle: MakeCandle
) -> None:
    await push(
        hub,
        auth,
        make_candle(0, symbol="GBP_USD"),
        *(make_candle(m, source="DATABENTO") for m in range(3)),
        make_candle(7),
    )
    body = (await hub.client.get("/v1/inventory", headers=auth)).json()
    assert body == {
        "items": [
            {
                "symbol": "EUR_USD",
                "source": "DATABENTO",
                "volume_type": "real",
                "count": 3,
                "first": "2025-11-04T13:00:00Z",
                "last": "2025-11-04T13:02:00Z",
            },
            {
                "symbol": "EUR_USD",
                "source": "IG",
                "volume_type": "tick",
                "count": 1,
                "first": "2025-11-04T13:07:00Z",
                "last": "2025-11-04T13:07:00Z",
            },
            {
                "symbol": "GBP_USD",
                "source": "IG",
                "volume_type": "tick",
                "count": 1,
                "first": "2025-11-04T13:00:00Z",
                "last": "2025-11-04T13:00:00Z",
            },
        ]
    }


# --- health ------------------------------------------------------------------------------------------


async def test_healthz_reports_store_kind_count_and_version(
    hub: Any, auth: dict[str, str], make_candle: MakeCandle
) -> None:
    from fxhub import __version__

    await push(hub, auth, make_candle(0), make_candle(1))
    response = await hub.client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "store": "sqlite", "candles": 2, "version": __version__}


async def test_healthz_is_503_degraded_when_the_store_fails(open_hub: Any) -> None:
    async with open_hub(FailingStore()) as hub:
        response = await hub.client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["candles"] is None
    assert "failed (StoreError)" in body["error"]


async def test_healthz_is_503_degraded_when_the_store_is_too_slow(
    open_hub: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(routes, "HEALTH_TIMEOUT_SECONDS", 0.05)
    release = threading.Event()
    try:
        async with open_hub(FailingStore(block=release)) as hub:
            response = await hub.client.get("/healthz")
    finally:
        release.set()
    assert response.status_code == 503
    assert "did not answer in time" in response.json()["error"]


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/v1/inventory"), ("GET", "/v1/candles/EUR_USD/latest"), ("POST", "/v1/candles")],
)
async def test_a_failing_store_is_503_retry_later_not_a_crash(
    open_hub: Any, auth: dict[str, str], make_candle: MakeCandle, method: str, path: str
) -> None:
    async with open_hub(FailingStore()) as hub:
        response = await hub.client.request(method, path, json={"candles": [make_candle()]}, headers=auth)
    assert response.status_code == 503
    assert "retry later" in response.json()["error"]


def test_store_kind_sees_through_the_hot_window(store: SqliteStore) -> None:
    assert store_kind(store) == "sqlite"
    assert store_kind(HotWindowStore(store, window=10)) == "sqlite"


def test_create_app_refuses_a_config_without_a_token(store: SqliteStore) -> None:
    with pytest.raises(ConfigError, match="token"):
        create_app(HubConfig(), store)


# --- errors ------------------------------------------------------------------------------------------


async def test_unknown_route_is_404_in_the_error_shape(hub: Any) -> None:
    response = await hub.client.get("/v2/nothing")
    assert response.status_code == 404
    assert response.json() == {
        "error": "there is no /v2/nothing; the hub's API is described at /openapi.json",
        "detail": None,
    }


async def test_wrong_method_is_405_naming_the_allowed_one(hub: Any, auth: dict[str, str]) -> None:
    response = await hub.client.delete("/v1/candles", headers=auth)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["error"] == "DELETE is not allowed on /v1/candles; use POST"


@pytest.mark.parametrize(
    "symbol",
    ["EUR_USD", "ES", "6E", "A" * 12, "A" * 13, "eur_usd", "EUR_USD_X", "EUR-USD", "EUR_", "_USD", ""],
)
def test_schema_symbol_pattern_accepts_exactly_what_candle_accepts(
    symbol: str, make_candle: MakeCandle
) -> None:
    try:
        Candle.from_dict(make_candle(symbol=symbol))
        accepted = True
    except ValidationError:
        accepted = False
    assert (re.search(SYMBOL_PATTERN, symbol) is not None) == accepted


# --- metrics -----------------------------------------------------------------------------------------


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_metrics_count_pushes_candles_reads_and_latency_after_a_push(
    hub: Any, auth: dict[str, str], make_candle: MakeCandle
) -> None:
    await push(hub, auth, make_candle(0), make_candle(1), make_candle(0, source="DATABENTO"))
    await push(hub, auth, make_candle(0), make_candle(1, close=1.1001))
    await hub.client.post("/v1/candles", json={"candles": [make_candle(0, high=0.1)]}, headers=auth)
    await hub.client.post("/v1/candles", json={"candles": [make_candle(0)]})
    await hub.client.get("/v1/candles/EUR_USD/latest", headers=auth)
    await hub.client.get("/v1/inventory", headers=auth)

    response = await hub.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    got = samples(response.text)
    assert got[("fxhub_push_requests_total", (("outcome", "ok"),))] == 2
    assert got[("fxhub_push_requests_total", (("outcome", "invalid"),))] == 1
    assert got[("fxhub_push_requests_total", (("outcome", "unauthorized"),))] == 1
    pushed = {
        (dict(labels)["source"], dict(labels)["result"]): value
        for (name, labels), value in got.items()
        if name == "fxhub_candles_pushed_total"
    }
    assert pushed == {
        ("IG", "inserted"): 2,
        ("IG", "replaced"): 1,
        ("IG", "unchanged"): 1,
        ("DATABENTO", "inserted"): 1,
        ("DATABENTO", "replaced"): 0,
        ("DATABENTO", "unchanged"): 0,
    }
    assert got[("fxhub_read_requests_total", (("endpoint", "latest"),))] == 1
    assert got[("fxhub_read_requests_total", (("endpoint", "inventory"),))] == 1
    assert got[("fxhub_request_seconds_count", (("endpoint", "push"),))] == 4
    assert got[("fxhub_stream_subscribers", ())] == 0
    assert got[("fxhub_stream_dropped_total", ())] == 0


async def test_each_app_has_its_own_registry(
    open_hub: Any, auth: dict[str, str], make_candle: MakeCandle
) -> None:
    async with open_hub() as first, open_hub() as second:
        await push(first, auth, make_candle(0))
        text = (await second.client.get("/metrics")).text
    assert 'fxhub_push_requests_total{outcome="ok"}' not in text


async def test_openapi_marks_reads_public_only_when_the_hub_allows_anonymous_reads(open_hub: Any) -> None:
    async with open_hub() as private, open_hub(allow_anonymous_reads=True) as public:
        closed = (await private.client.get("/openapi.json")).json()["paths"]
        opened = (await public.client.get("/openapi.json")).json()["paths"]
    for path in ("/v1/candles/{symbol}/latest", "/v1/candles/{symbol}", "/v1/inventory"):
        assert closed[path]["get"]["security"] == [{"hubToken": []}]
        assert "security" not in opened[path]["get"]
        assert "401" not in opened[path]["get"]["responses"]
    assert opened["/v1/candles"]["post"]["security"] == [{"hubToken": []}]
