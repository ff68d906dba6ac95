"""`/metrics` stamps each source's last push, which `fxhub doctor` reads to tell which collectors push."""

from __future__ import annotations

import time
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.anyio

LAST_PUSH = "fxhub_last_push_timestamp_seconds"


async def last_pushes(hub: Any) -> dict[str, float]:
    text = (await hub.client.get("/metrics")).text
    return {
        sample.labels["source"]: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == LAST_PUSH
    }


async def test_last_push_is_stamped_per_source_by_accepted_pushes_only(
    hub: Any, auth: dict[str, str], make_candle: Any
) -> None:
    assert await last_pushes(hub) == {}
    before = time.time()
    response = await hub.client.post("/v1/candles", json={"candles": [make_candle(0)]}, headers=auth)
    assert response.status_code == 200
    stamped = await last_pushes(hub)
    assert set(stamped) == {"IG"}
    assert before <= stamped["IG"] <= time.time()

    refused = await hub.client.post(
        "/v1/candles", json={"candles": [make_candle(0, source="DATABENTO")]}, headers={}
    )
    assert refused.status_code == 401
    invalid = await hub.client.post(
        "/v1/candles", json={"candles": [make_candle(0, source="DATABENTO", high=0.1)]}, headers=auth
    )
    assert invalid.status_code == 422
    assert set(await last_pushes(hub)) == {"IG"}

    await hub.client.post("/v1/candles", json={"candles": [make_candle(0)]}, headers=auth)  # a repeat
    assert (await last_pushes(hub))["IG"] >= stamped["IG"]
