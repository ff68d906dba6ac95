"""The hub's HTTP endpoints (docs/hub-api.md): push, latest, range, inventory, health and metrics."""

from __future__ import annotations

import functools
import logging
import re
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, Final, TypeVar

import anyio
import anyio.to_thread
import orjson
from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from fxhub import __version__
from fxhub.errors import ValidationError
from fxhub.hub.headers import SINCE_HEADER
from fxhub.hub.server.auth import require_read, require_write
from fxhub.hub.server.delta import delta_response, series_headers
from fxhub.hub.server.errors import HubHTTPError
from fxhub.hub.server.push import parse_push, push_summary, read_limited_body
from fxhub.hub.server.schemas import (
    SYMBOL_PATTERN,
    CandlesPage,
    ErrorBody,
    Health,
    Inventory,
    PushResult,
)
from fxhub.hub.server.state import (
    hub_broadcaster,
    hub_config,
    hub_count_cache,
    hub_metrics,
    hub_store,
    hub_store_kind,
)
from fxhub.hub.store import EncodedPage, HotWindowStore, StoreError
from fxhub.model import SOURCE_VOLUME_TYPE, Candle, Source, parse_utc_timestamp

__all__ = ["HEALTH_TIMEOUT_SECONDS", "MAX_LATEST", "MAX_RANGE", "page_bytes", "router"]

logger = logging.getLogger(__name__)

HEALTH_TIMEOUT_SECONDS: Final = 2.0
MAX_LATEST: Final = 10_000
MAX_RANGE: Final = 100_000
_T = TypeVar("_T")
_DATE_TIME: Final[dict[str, Any]] = {"format": "date-time"}
_JSON: Final = "application/json"

_ERRORS: Final[dict[int | str, dict[str, Any]]] = {
    401: {"model": ErrorBody, "description": "The bearer token is missing or wrong."},
    422: {"model": ErrorBody, "description": "A parameter or the body is invalid; `detail` says which."},
    503: {"model": ErrorBody, "description": "The store did not answer; retry later."},
}
_READ_ERRORS: Final = _ERRORS
_ETAG_HEADER: Final[dict[str, Any]] = {
    "description": "The page's strong entity tag: a hash of the body's bytes. Send it back in "
    "`If-None-Match` to be answered 304 while the page is unchanged.",
    "schema": {"type": "string"},
}
_PAGE_RESPONSES: Final[dict[int | str, dict[str, Any]]] = {
    200: {"headers": {"ETag": _ETAG_HEADER}},
    304: {
        "description": "`If-None-Match` names the page's current `ETag`: the page the client holds is "
        "the answer (no body).",
        "headers": {"ETag": _ETAG_HEADER},
    },
    **_ERRORS,
}
_ENTITY_TAG: Final = re.compile(r'(?:W/)?"([^"]*)"')
_PUSH_ERRORS: Final = {**_ERRORS, 413: {"model": ErrorBody, "description": "The body or batch is too large."}}

router = APIRouter()

SymbolPath = Annotated[
    str, Path(pattern=SYMBOL_PATTERN, description="A pair such as EUR_USD, or a CME product root.")
]
SourceQuery = Annotated[Source | None, Query(description="One source; both when left out.")]


async def _store_call(what: str, function: Callable[..., _T], *args: Any) -> _T:
    """Run a blocking store method in a worker thread; a `StoreError` is a 503 (retry), not a crash."""
    try:
        return await anyio.to_thread.run_sync(function, *args)
    except StoreError as exc:
        logger.error("the store failed to %s: %s", what, exc)
        raise HubHTTPError(503, f"the store failed to {what}; nothing changed, retry later") from exc


def _only_query(*names: str) -> Callable[[Request], Awaitable[None]]:
    """A dependency refusing query parameters other than `names`: a typo must not be silently ignored."""
    allowed = frozenset(names)
    takes = ", ".join(f"`{name}`" for name in sorted(allowed)) or "none"

    # async: FastAPI runs a plain `def` dependency in a worker thread, a hop on every request.
    async def check(request: Request) -> None:
        unknown = sorted(set(request.query_params) - allowed)
        if unknown:
            raise HubHTTPError(
                422,
                f"unknown query parameter {', '.join(f'`{name}`' for name in unknown)}; "
                f"{request.url.path} takes {takes}",
                [
                    _query_problem(name, request.query_params[name], f"is not one of: {takes}")
                    for name in unknown
                ],
            )

    return check


def page_bytes(symbol: str, source: Source | None, candles: list[Candle]) -> bytes:
    """The JSON body of a candles page (latest and range answers)."""
    # orjson writes the same JSON values as json.dumps, several times faster (the hub's hottest path).
    body = {
        "symbol": symbol,
        "source": None if source is None else source.value,
        "candles": [candle.to_dict() for candle in candles],
    }
    return orjson.dumps(body)


def _names_page(if_none_match: str | None, page: EncodedPage) -> bool:
    """Whether an `If-None-Match` value is ``*`` or lists the page's tag (compared weakly, as RFC 9110
    asks for this header: a ``W/`` prefix does not matter)."""
    if if_none_match is None:
        return False
    return if_none_match.strip() == "*" or page.digest in _ENTITY_TAG.findall(if_none_match)


def _page_response(request: Request, page: EncodedPage) -> Response:
    """The page with its `ETag`, or `304 Not Modified` (no body) when the client already holds it."""
    # Returned as a response directly: the candles are already valid, so the model only documents them.
    # `no-cache`: a browser or proxy may keep the page but must ask again (cheaply, with the tag) each time.
    headers = {"ETag": f'"{page.digest}"', "Cache-Control": "no-cache"}
    if _names_page(request.headers.get("if-none-match"), page):
        return Response(status_code=304, headers=headers)
    return Response(page.body, media_type=_JSON, headers=headers)


def _page(request: Request, symbol: str, source: Source | None, candles: list[Candle]) -> Response:
    # Encoded and hashed per request (the hash costs a fraction of the encoding): a client that holds
    # the page still saves the transfer and its decoding.
    return _page_response(request, EncodedPage.of(page_bytes(symbol, source, candles)))


def _query_problem(field: str, value: Any, rule: str) -> dict[str, Any]:
    """A 422 `detail` item for a query parameter, shaped like FastAPI's own (rewritten) ones."""
    return {
        "location": "query",
        "field": field,
        "value": value,
        "rule": rule,
        "message": f"query `{field}`: {rule}, was {value!r}",
    }


def _query_time(field: str, value: str) -> datetime:
    """A range bound as a UTC datetime, or a 422 naming the parameter."""
    try:
        return parse_utc_timestamp(value, field=field, where="GET /v1/candles/{symbol}")
    except ValidationError as exc:
        rule = exc.rule
    raise HubHTTPError(
        422,
        f"`{field}` {rule}, was {value!r}; send e.g. 2025-11-04T13:00:00Z",
        [_query_problem(field, value, rule)],
    )


def _iso(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


@router.post(
    "/v1/candles",
    name="push",
    summary="Push a batch of candles",
    response_model=PushResult,
    responses=_PUSH_ERRORS,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PushRequest"}}},
        }
    },
)
async def push_candles(
    request: Request,
    _auth: Annotated[None, Depends(require_write)],
    _query: Annotated[None, Depends(_only_query())],
) -> JSONResponse:
    """Store 1 to 10,000 candles, all or nothing, idempotent on (symbol, source, timestamp)."""
    began = time.perf_counter()
    config = hub_config(request)
    body = await read_limited_body(
        request.headers.get("content-length"), request.stream(), config.max_body_bytes
    )
    candles = parse_push(body, config.max_candles_per_push)
    store = hub_store(request)
    result = await _store_call("store the batch", store.upsert, candles)
    hub_count_cache(request).inserted(result.inserted)
    await hub_broadcaster(request).publish_paced(result.changed, result.replaced_keys)
    sent = hub_metrics(request).count_push(candles, result)
    logger.info(
        "push: %d candles (%s): %d inserted, %d replaced, %d unchanged in %.1f ms",
        len(candles),
        "+".join(sorted(sent)),
        result.inserted,
        result.replaced,
        result.unchanged,
        (time.perf_counter() - began) * 1000,
    )
    return JSONResponse(push_summary(result))


@router.get(
    "/v1/candles/{symbol}/latest",
    name="latest",
    summary="The newest candles of a symbol",
    response_model=CandlesPage,
    responses=_PAGE_RESPONSES,
    dependencies=[Depends(require_read), Depends(_only_query("limit", "source"))],
)
async def latest_candles(
    request: Request,
    symbol: SymbolPath,
    limit: Annotated[int, Query(ge=1, le=MAX_LATEST, description="How many candles.")] = 100,
    source: SourceQuery = None,
    since: Annotated[
        str | None,
        Header(
            alias=SINCE_HEADER,
            description="The `X-Fxhub-Series` token of the page the client holds (with `source`): "
            "answered 304 while the series is unchanged, else with only the changed candles and `delta`.",
        ),
    ] = None,
) -> Response:
    """The newest `limit` candles, oldest first; without `source`, both sources by (timestamp, source).

    With an `ETag` (a hash of the body); `If-None-Match` naming it is answered `304 Not Modified`.
    """
    store = hub_store(request)
    if isinstance(store, HotWindowStore):
        if source is not None and since is not None:
            delta = store.latest_delta(symbol, limit, source, since)
            if delta is not None:
                return delta_response(symbol, source, since, delta)
        # Taken before the page: a write in between makes the next delta repeat a candle, never miss one.
        token = None if source is None else store.series_token(symbol, source)
        # Loaded windows answer without I/O or waiting, so no worker-thread hop is needed for them; and
        # the encoded page and its hash are kept until a write touches its series, so a poll costs a lookup.
        page = store.latest_page(symbol, limit, source, functools.partial(page_bytes, symbol, source))
        if page is not None:
            response = _page_response(request, page)
            response.headers.update(series_headers(token))
            return response
    candles = await _store_call("read the latest candles", store.latest, symbol, limit, source)
    return _page(request, symbol, source, candles)


@router.get(
    "/v1/candles/{symbol}",
    name="range",
    summary="The candles of a symbol in a time range",
    response_model=CandlesPage,
    responses=_PAGE_RESPONSES,
    dependencies=[Depends(require_read), Depends(_only_query("start", "end", "source", "limit"))],
)
async def candle_range(
    request: Request,
    symbol: SymbolPath,
    start: Annotated[
        str,
        Query(description="First minute, inclusive (ISO 8601 with a zone).", json_schema_extra=_DATE_TIME),
    ],
    end: Annotated[
        str, Query(description="End, exclusive (ISO 8601 with a zone).", json_schema_extra=_DATE_TIME)
    ],
    source: SourceQuery = None,
    limit: Annotated[
        int, Query(ge=1, le=MAX_RANGE, description="At most this many, oldest first.")
    ] = MAX_RANGE,
) -> Response:
    """Candles with start ≤ timestamp < end, oldest first, at most `limit`; with an `ETag` as `latest`."""
    first = _query_time("start", start)
    stop = _query_time("end", end)
    if stop <= first:
        raise HubHTTPError(
            422,
            f"`end` must be after `start`, was {_iso(stop)} ≤ {_iso(first)}; swap or widen them",
            [_query_problem("end", end, "must be after start")],
        )
    store = hub_store(request)
    candles = await _store_call("read the candles", store.range, symbol, first, stop, source)
    return _page(request, symbol, source, candles[:limit])


@router.get(
    "/v1/inventory",
    name="inventory",
    summary="What the hub holds",
    response_model=Inventory,
    responses=_READ_ERRORS,
    dependencies=[Depends(require_read), Depends(_only_query())],
)
async def inventory(request: Request) -> JSONResponse:
    """Candle counts and spans per (symbol, source), sorted by symbol, then source."""
    rows = await _store_call("list its inventory", hub_store(request).inventory)
    items = [
        {
            "symbol": row.symbol,
            "source": row.source.value,
            "volume_type": SOURCE_VOLUME_TYPE[row.source].value,
            "count": row.count,
            "first": _iso(row.first),
            "last": _iso(row.last),
        }
        for row in sorted(rows, key=lambda row: (row.symbol, row.source.value))
    ]
    return JSONResponse({"items": items})


@router.get(
    "/healthz",
    name="healthz",
    summary="Whether the hub and its store answer",
    response_model=Health,
    responses={503: {"model": Health, "description": "The store does not answer."}},
)
async def healthz(request: Request) -> JSONResponse:
    """`ok` with the stored candle count, or 503 `degraded` when the store fails or is slow."""
    body: dict[str, Any] = {
        "status": "ok",
        "store": hub_store_kind(request),
        "candles": None,
        "version": __version__,
    }
    store = hub_store(request)
    cache = hub_count_cache(request)
    try:
        cached = cache.fresh()
        if cached is None:
            generation = cache.generation()
            with anyio.fail_after(HEALTH_TIMEOUT_SECONDS):
                cached = await anyio.to_thread.run_sync(store.count, abandon_on_cancel=True)
            cache.store(cached, generation)
        body["candles"] = cached
    except Exception as exc:
        reason = (
            "did not answer in time" if isinstance(exc, TimeoutError) else f"failed ({type(exc).__name__})"
        )
        logger.warning("health check: the store %s: %s", reason, exc)
        body |= {"status": "degraded", "error": f"the store {reason}; check the store and the hub's log"}
        return JSONResponse(body, status_code=503)
    return JSONResponse(body)


@router.get(
    "/metrics",
    name="metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}}}},
)
async def metrics(request: Request) -> Response:
    """The hub's counters and histograms in Prometheus text format (no data, so no auth)."""
    return Response(generate_latest(hub_metrics(request).registry), media_type=CONTENT_TYPE_LATEST)
