"""The hub's HTTP API as pure values: building requests, checking arguments, reading responses.

Both clients (`sync.HubClient`, `async_.AsyncHubClient`) use these functions and differ only in how they
send a `Request` and receive an `httpx.Response`, so the API is spelled out once (docs/hub-api.md).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Literal
from urllib.parse import urlsplit

import httpx
import orjson

from fxhub.errors import ValidationError
from fxhub.hub.client.errors import HubError, HubRejected, HubServerError, HubUnauthorized
from fxhub.hub.client.results import Health, InventoryItem, PushResult
from fxhub.model import Candle, Source, VolumeType, parse_utc_timestamp
from fxhub.settings import Secret

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "DEFAULT_URL",
    "MAX_CANDLES_PER_PUSH",
    "MAX_LATEST_LIMIT",
    "MAX_PUSH_BYTES",
    "MAX_RANGE_LIMIT",
    "RangeCursor",
    "Request",
    "as_token",
    "check_pair",
    "check_source",
    "check_url",
    "checked",
    "describe_token_origin",
    "headers",
    "health_request",
    "inventory_request",
    "latest_request",
    "parse_candles",
    "parse_health",
    "parse_inventory",
    "parse_page",
    "parse_push",
    "push_requests",
    "raise_for_status",
]

logger = logging.getLogger(__name__)

DEFAULT_URL: Final = "http://127.0.0.1:50000"
DEFAULT_TIMEOUT_S: Final = 10.0
MAX_CANDLES_PER_PUSH: Final = 10_000
# The hub refuses bodies over 8 MiB; stay clear of it whatever extras the candles carry.
MAX_PUSH_BYTES: Final = 8 * 1024 * 1024 - 64 * 1024
MAX_LATEST_LIMIT: Final = 10_000
MAX_RANGE_LIMIT: Final = 100_000
_PAIR_RE: Final = re.compile(r"^[A-Z0-9]{1,12}(_[A-Z0-9]{1,12})?$")
_JSON: Final = {"Content-Type": "application/json"}


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request to the hub; `offset` is where a push request's candles start in the input."""

    method: Literal["GET", "POST"]
    path: str
    params: Mapping[str, str] = field(default_factory=dict)
    content: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    offset: int = 0
    count: int = 0


# --- arguments -----------------------------------------------------------------------------------


def check_url(url: object) -> str:
    """`url` without a trailing slash if it is ``http(s)://host[:port]``, else `ValidationError`."""
    parts = None
    if isinstance(url, str):
        try:
            parts = urlsplit(url.strip())
            _ = parts.port  # ValueError for a port that is not a number in 0..65535
        except ValueError:
            parts = None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or parts.username is not None
    ):
        raise ValidationError("url", url, f"must be http(s)://host[:port] such as {DEFAULT_URL}")
    return str(url).strip().rstrip("/")


def check_pair(pair: object, where: str) -> str:
    if not isinstance(pair, str) or not _PAIR_RE.match(pair):
        raise ValidationError(
            "pair", pair, "must be upper-case like 'EUR_USD' (a pair) or 'ES' (a CME product)", where=where
        )
    return pair


def check_source(source: object, where: str) -> Source | None:
    """`None`, a `Source`, or its name ``"IG"`` / ``"DATABENTO"``."""
    if source is None or isinstance(source, Source):
        return source
    if isinstance(source, str) and source in Source.__members__:
        return Source(source)
    allowed = ", ".join(repr(member.value) for member in Source)
    raise ValidationError("source", source, f"must be None or one of {allowed}", where=where)


def _check_limit(limit: object, maximum: int, where: str) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= maximum:
        raise ValidationError("limit", limit, f"must be a whole number from 1 to {maximum:,}", where=where)
    return limit


def as_token(token: str | Secret | None) -> Secret | None:
    """A `Secret` from a token argument; blank counts as no token."""
    if token is None or isinstance(token, Secret):
        return token if token is None or token.reveal().strip() else None
    if not isinstance(token, str):
        raise ValidationError("token", type(token).__name__, "must be a string, a Secret or None")
    return Secret(token.strip()) if token.strip() else None


def describe_token_origin(token: Secret | None, origin: str | None) -> str:
    if origin is not None:
        return origin
    return "the `token` argument" if token is not None else "nowhere: no token was given"


def headers(token: Secret | None) -> dict[str, str]:
    """The request headers; the token goes in `Authorization` only, never in a URL."""
    return {} if token is None else {"Authorization": f"Bearer {token.reveal()}"}


# --- requests ------------------------------------------------------------------------------------


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _source_params(source: Source | None) -> dict[str, str]:
    return {} if source is None else {"source": source.value}


def latest_request(pair: object, limit: object, source: object) -> Request:
    where = "get_latest_candles"
    symbol = check_pair(pair, where)
    params = {"limit": str(_check_limit(limit, MAX_LATEST_LIMIT, where))}
    return Request(
        "GET", f"/v1/candles/{symbol}/latest", params | _source_params(check_source(source, where))
    )


def inventory_request() -> Request:
    return Request("GET", "/v1/inventory")


def health_request() -> Request:
    return Request("GET", "/healthz")


def push_requests(candles: Sequence[Candle]) -> list[Request]:
    """`POST /v1/candles` requests for `candles` in order, each within the hub's count and size limits."""
    if isinstance(candles, Candle) or not isinstance(candles, Sequence):
        raise ValidationError("candles", type(candles).__name__, "must be a sequence of Candle objects")
    requests: list[Request] = []
    parts: list[bytes] = []
    size = 0
    offset = 0
    for index, candle in enumerate(candles):
        if not isinstance(candle, Candle):
            raise ValidationError(
                f"candles[{index}]",
                candle,
                "must be a Candle (build it with Candle(...) or Candle.from_dict)",
            )
        part = orjson.dumps(candle.to_dict())
        if parts and (len(parts) >= MAX_CANDLES_PER_PUSH or size + len(part) + 1 > MAX_PUSH_BYTES):
            requests.append(_push_request(parts, offset))
            offset += len(parts)
            parts, size = [], 0
        parts.append(part)
        size += len(part) + 1
    if parts:
        requests.append(_push_request(parts, offset))
    return requests


def _push_request(parts: list[bytes], offset: int) -> Request:
    body = b'{"candles":[' + b",".join(parts) + b"]}"
    return Request("POST", "/v1/candles", content=body, headers=_JSON, offset=offset, count=len(parts))


class RangeCursor:
    """`GET /v1/candles/{symbol}` page by page until [start, end) is read, whatever its size.

    The hub returns at most `page_limit` candles per request ordered by (timestamp, source); the next
    page starts at the last timestamp seen, and candles already received at that minute are skipped.
    """

    def __init__(
        self, pair: object, start: object, end: object, source: object, page_limit: int = MAX_RANGE_LIMIT
    ) -> None:
        where = "get_candles"
        self._symbol = check_pair(pair, where)
        self._start = parse_utc_timestamp(start, field="start", where=where)
        self._end = parse_utc_timestamp(end, field="end", where=where)
        if self._end <= self._start:
            raise ValidationError("end", end, f"must be after start ({_iso(self._start)})", where=where)
        self._source = check_source(source, where)
        self._page_limit = _check_limit(page_limit, MAX_RANGE_LIMIT, where)
        self._boundary_keys: set[tuple[str, str, datetime]] = set()
        self._done = False
        self.candles: list[Candle] = []

    def next_request(self) -> Request | None:
        if self._done:
            return None
        params = {"start": _iso(self._start), "end": _iso(self._end), "limit": str(self._page_limit)}
        return Request("GET", f"/v1/candles/{self._symbol}", params | _source_params(self._source))

    def feed(self, page: list[Candle]) -> None:
        self.candles.extend(candle for candle in page if candle.key not in self._boundary_keys)
        if len(page) < self._page_limit:
            self._done = True
            return
        last = page[-1].timestamp
        if last <= self._start:
            raise HubError(
                f"the hub returned a full page of {len(page)} candles all at {_iso(last)}; "
                "cannot page further, use a larger page limit"
            )
        self._start = last
        self._boundary_keys = {candle.key for candle in page if candle.timestamp == last}


# --- responses -----------------------------------------------------------------------------------


def checked(
    response: httpx.Response,
    request: Request,
    url: str,
    token_origin: str,
    started: float,
    ok_statuses: tuple[int, ...] = (),
) -> httpx.Response:
    """`response` once it is known to be a success (or in `ok_statuses`); logs the request's latency."""
    logger.debug(
        "hub request: method=%s path=%s status=%d candles=%d latency_ms=%.1f",
        request.method,
        request.path,
        response.status_code,
        request.count,
        (time.perf_counter() - started) * 1000,
    )
    if response.status_code not in ok_statuses:
        raise_for_status(response, url, token_origin, request=request)
    return response


def raise_for_status(
    response: httpx.Response, url: str, token_origin: str, *, request: Request | None = None
) -> None:
    """Turn a non-2xx answer into the matching `HubError`; `request` adjusts push reasons' indices."""
    status = response.status_code
    if status < 400:
        return
    message, detail = _error_body(response)
    if status == 401:
        raise HubUnauthorized(url, message, token_origin)
    if status in (413, 422):
        offset = request.offset if request is not None else 0
        reasons = _reasons(detail, offset)
        raise HubRejected(url, status, message, reasons, stored_before=offset)
    if status >= 500:
        raise HubServerError(url, status, message)
    raise HubError(
        f"the hub at {url} answered {response.request.method} {response.request.url.path} with "
        f"{status} ({message}); check that FXHUB_URL points at an fxhub hub of a matching version"
    )


def _error_body(response: httpx.Response) -> tuple[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return (response.text.strip()[:200] or response.reason_phrase), None
    if isinstance(body, Mapping):
        return str(body.get("error") or response.reason_phrase), body.get("detail")
    return response.reason_phrase, None


def _reasons(detail: Any, offset: int) -> list[dict[str, Any]]:
    if detail is None:
        return []
    items = detail if isinstance(detail, list) else [detail]
    reasons: list[dict[str, Any]] = []
    for item in items:
        reason: dict[str, Any] = dict(item) if isinstance(item, Mapping) else {"message": str(item)}
        index = reason.get("index")
        if isinstance(index, int) and not isinstance(index, bool):
            reason["index"] = index + offset
        reasons.append(reason)
    return reasons


def _json_object(response: httpx.Response, url: str) -> Mapping[str, Any]:
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        body = None
    if not isinstance(body, Mapping):
        raise HubError(
            f"the hub at {url} answered {response.request.url.path} with a body that is not a JSON object, "
            f"was {response.text[:200]!r}; check that FXHUB_URL points at an fxhub hub"
        )
    return body


def _malformed(url: str, what: str, error: Exception) -> HubError:
    return HubError(f"the hub at {url} sent a malformed {what} ({error}); check the hub's version")


def parse_candles(response: httpx.Response, url: str) -> list[Candle]:
    return parse_page(response, url)[0]


def parse_page(response: httpx.Response, url: str) -> tuple[list[Candle], Mapping[str, Any] | None]:
    """A candles page: its candles, and its `delta` object when it holds only what changed."""
    page = _json_object(response, url)
    delta = page.get("delta")
    if delta is not None and not isinstance(delta, Mapping):
        raise _malformed(url, "page delta", TypeError("`delta` is not an object"))
    return _page_candles(page.get("candles"), url), delta


def _page_candles(items: object, url: str) -> list[Candle]:
    if not isinstance(items, list):
        raise _malformed(url, "candle list", TypeError("`candles` is not a list"))
    # The hub validated every candle on the way in and sends `to_dict` output: take the trusted path,
    # which still refuses a body of another shape.
    try:
        return [Candle._from_trusted_dict(item) for item in items]
    except (ValidationError, KeyError, TypeError, ValueError) as error:
        raise _malformed(url, "candle", error) from error


def parse_push(response: httpx.Response, url: str) -> PushResult:
    body = _json_object(response, url)
    try:
        keys = tuple(
            (str(key["symbol"]), Source(key["source"]), parse_utc_timestamp(key["timestamp"]))
            for key in body.get("replaced_keys", ())
        )
        return PushResult(
            inserted=int(body["inserted"]),
            replaced=int(body["replaced"]),
            unchanged=int(body["unchanged"]),
            replaced_keys=keys,
            requests=1,
        )
    except (KeyError, TypeError, ValueError) as error:
        raise _malformed(url, "push result", error) from error


def parse_inventory(response: httpx.Response, url: str) -> list[InventoryItem]:
    items = _json_object(response, url).get("items")
    try:
        if not isinstance(items, list):
            raise TypeError("`items` is not a list")
        return [
            InventoryItem(
                symbol=str(item["symbol"]),
                source=Source(item["source"]),
                volume_type=VolumeType(item["volume_type"]),
                count=int(item["count"]),
                first=parse_utc_timestamp(item["first"], field="first", where="inventory"),
                last=parse_utc_timestamp(item["last"], field="last", where="inventory"),
            )
            for item in items
        ]
    except (KeyError, TypeError, ValueError) as error:
        raise _malformed(url, "inventory", error) from error


def parse_health(response: httpx.Response, url: str) -> Health:
    body = _json_object(response, url)
    candles = body.get("candles")
    return Health(
        status=str(body.get("status", "unknown")),
        store=None if body.get("store") is None else str(body["store"]),
        candles=candles if isinstance(candles, int) else None,
        version=None if body.get("version") is None else str(body["version"]),
    )
