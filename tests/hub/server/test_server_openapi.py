"""The OpenAPI document describes the hub as it behaves: schemathesis generates requests from it, valid
and invalid, against the app over a real SQLite store; no answer may be a 5xx or contradict the document.

(schemathesis's pytest integration, `from_fixture`, does not run on pytest 9, so each operation runs its
own bounded Hypothesis loop over `APIOperation.as_strategy()`.)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import negative_data_rejection

from fxhub.hub.server import HubConfig, create_app
from fxhub.hub.store import SqliteStore
from fxhub.settings import Secret

TOKEN = "schemathesis-token-0123"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
MAX_EXAMPLES = 30
OPERATIONS = [
    ("POST", "/v1/candles"),
    ("GET", "/v1/candles/{symbol}/latest"),
    ("GET", "/v1/candles/{symbol}"),
    ("GET", "/v1/inventory"),
    ("GET", "/healthz"),
    ("GET", "/metrics"),
]
WITH_INPUT = [op for op in OPERATIONS if op[1] not in ("/v1/inventory", "/healthz", "/metrics")]
CONFIG = schemathesis.Config.from_dict(
    {
        "operations": [
            # Rules JSON Schema cannot state (high ≥ low, IG means tick volume, a minute start) make some
            # schema-valid pushes a correct 422; more than 10,000 candles is a 413, the API's documented
            # answer, which schemathesis does not expect by default.
            {
                "include-path": "/v1/candles",
                "include-method": "POST",
                "checks": {
                    "positive_data_acceptance": {"enabled": False},
                    "negative_data_rejection": {"expected-statuses": ["400", "401", "413", "422"]},
                },
            },
            # end > start is such a rule too.
            {
                "include-path": "/v1/candles/{symbol}",
                "include-method": "GET",
                "checks": {"positive_data_acceptance": {"enabled": False}},
            },
        ]
    }
)


@pytest.fixture(scope="module")
def hub_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    store = SqliteStore(tmp_path_factory.mktemp("openapi") / "hub.sqlite3")
    app = create_app(HubConfig(token=Secret(TOKEN)), store)
    yield schemathesis.openapi.from_asgi("/openapi.json", app, config=CONFIG)
    store.close()


def sent_without_its_violation(case: schemathesis.Case) -> bool:
    """schemathesis leaves a query parameter whose value is an empty list out of the URL, so a
    'negative' case made of one reaches the hub as a valid request."""
    return any(value == [] for value in (case.query or {}).values())


def run_operation(schema: Any, method: str, path: str, mode: schemathesis.GenerationMode) -> None:
    operation = schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def check(case: schemathesis.Case) -> None:
        excluded = [negative_data_rejection] if sent_without_its_violation(case) else []
        case.call_and_validate(headers=AUTH, excluded_checks=excluded)

    check()


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_valid_requests_get_documented_answers(hub_schema: Any, method: str, path: str) -> None:
    run_operation(hub_schema, method, path, schemathesis.GenerationMode.POSITIVE)


@pytest.mark.parametrize(("method", "path"), WITH_INPUT)
def test_invalid_requests_are_refused_with_a_documented_4xx(hub_schema: Any, method: str, path: str) -> None:
    run_operation(hub_schema, method, path, schemathesis.GenerationMode.NEGATIVE)


def test_document_lists_exactly_the_operations_tested_here(hub_schema: Any) -> None:
    listed = {
        (method.upper(), path) for path, item in hub_schema.raw_schema["paths"].items() for method in item
    }
    assert listed == set(OPERATIONS)


def test_document_declares_the_bearer_scheme_and_the_push_body(hub_schema: Any) -> None:
    raw = hub_schema.raw_schema
    assert raw["components"]["securitySchemes"]["hubToken"]["scheme"] == "bearer"
    push = raw["paths"]["/v1/candles"]["post"]
    assert push["security"] == [{"hubToken": []}]
    assert push["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PushRequest"
    }
    candles = raw["components"]["schemas"]["PushRequest"]["properties"]["candles"]
    assert (candles["minItems"], candles["maxItems"]) == (1, 10_000)
    assert set(push["responses"]) == {"200", "401", "413", "422", "503"}
    assert "security" not in raw["paths"]["/healthz"]["get"]
