"""Bearer-token checks for HTTP requests and WebSocket handshakes, in constant time."""

from __future__ import annotations

import hmac
from typing import Annotated, Final

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import HTTPConnection

from fxhub.hub.server.errors import HubHTTPError
from fxhub.hub.server.state import hub_config

__all__ = ["bearer_scheme", "require_read", "require_write", "token_matches", "websocket_token"]

bearer_scheme: Final = HTTPBearer(
    auto_error=False,
    scheme_name="hubToken",
    description="The hub's token: FXHUB_TOKEN, or the token file `fxhub serve` wrote.",
)
_CHALLENGE: Final = {"WWW-Authenticate": 'Bearer realm="fxhub"'}

Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]


def token_matches(given: str | None, expected: str) -> bool:
    """Whether `given` is the hub's token; the comparison takes the same time wherever they differ."""
    if given is None:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def _check(connection: HTTPConnection, given: str | None) -> None:
    token = hub_config(connection).token
    assert token is not None  # create_app refuses a config without one
    if given is None:
        raise HubHTTPError(
            401,
            "this needs `Authorization: Bearer <token>`, and none came; send the hub's token "
            "(FXHUB_TOKEN, or the token file `fxhub serve` wrote)",
            headers=_CHALLENGE,
        )
    if not token_matches(given, token.reveal()):
        raise HubHTTPError(
            401,
            "the bearer token is not this hub's token; send FXHUB_TOKEN as the hub has it, "
            "or the token file `fxhub serve` wrote",
            headers={"WWW-Authenticate": 'Bearer realm="fxhub", error="invalid_token"'},
        )


async def require_write(connection: HTTPConnection, credentials: Credentials) -> None:
    """Dependency for writes: the token is always required."""
    _check(connection, None if credentials is None else credentials.credentials)


async def require_read(connection: HTTPConnection, credentials: Credentials) -> None:
    """Dependency for reads: the token is required unless the hub allows anonymous reads."""
    if hub_config(connection).allow_anonymous_reads:
        return
    _check(connection, None if credentials is None else credentials.credentials)


def websocket_token(connection: HTTPConnection) -> None:
    """Check a WebSocket handshake: `Authorization: Bearer` or, for browsers, `?token=`.

    Raises `HubHTTPError(401)` when a needed token is missing or wrong.
    """
    if hub_config(connection).allow_anonymous_reads:
        return
    header = connection.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    given = value.strip() if scheme.lower() == "bearer" and value.strip() else None
    if given is None:
        given = connection.query_params.get("token") or None
    _check(connection, given)
