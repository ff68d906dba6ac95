"""One error shape for every answer that is not a success: `{"error": "...", "detail": ...}`.

FastAPI's own answers (unknown route, wrong method, a query parameter of the wrong type) are rewritten
into the same shape, so a client needs one error parser.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from fxhub.errors import FxhubError

__all__ = ["HubHTTPError", "error_response", "install_error_handlers"]


class HubHTTPError(FxhubError):
    """An answer the hub gives on purpose: a status, one sentence saying what to do, and details."""

    def __init__(
        self, status_code: int, error: str, detail: Any = None, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(error)
        self.status_code = status_code
        self.error = error
        self.detail = detail
        self.headers = dict(headers or {})


def error_response(
    status_code: int, error: str, detail: Any = None, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """The JSON error body every non-2xx answer uses."""
    body = {"error": error, "detail": jsonable_encoder(detail)}
    return JSONResponse(body, status_code=status_code, headers=dict(headers or {}))


async def _hub_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HubHTTPError)
    return error_response(exc.status_code, exc.error, exc.detail, exc.headers)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    method, path = request.method, request.url.path
    if exc.status_code == 404:
        error = f"there is no {path}; the hub's API is described at /openapi.json"
    elif exc.status_code == 405:
        allowed = (exc.headers or {}).get("Allow", "")
        error = f"{method} is not allowed on {path}; use {allowed or 'another method'}"
    else:
        error = str(exc.detail)
    return error_response(exc.status_code, error, None, exc.headers)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    items = [_describe(error) for error in exc.errors()]
    names = ", ".join(f"`{item['field']}`" for item in items) or "the request"
    noun = "parameter is" if len(items) == 1 else "parameters are"
    error = f"{len(items)} {noun} invalid ({names}); fix {'it' if len(items) == 1 else 'them'} and retry"
    return error_response(422, error, items)


def _describe(error: Mapping[str, Any]) -> dict[str, Any]:
    """A pydantic error as the hub's (location, field, value, rule, message) item."""
    loc = [str(part) for part in error.get("loc", ())]
    location = loc[0] if loc else "request"
    field = ".".join(loc[1:]) or location
    value = error.get("input")
    rule = str(error.get("msg", "is invalid"))
    return {
        "location": location,
        "field": field,
        "value": value,
        "rule": rule,
        "message": f"{location} `{field}`: {rule}, was {value!r}",
    }


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    # Starlette re-raises after this answer, so the server logs the traceback.
    return error_response(
        500, f"the hub failed on {request.method} {request.url.path}; its log says why, please report it"
    )


def install_error_handlers(app: FastAPI) -> None:
    """Route every error the app can raise through the hub's error shape."""
    app.add_exception_handler(Exception, _unexpected_error)
    app.add_exception_handler(HubHTTPError, _hub_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
