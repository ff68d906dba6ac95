"""What can go wrong between a client and the hub, each error saying what to do about it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from fxhub.errors import FxhubError

__all__ = ["HubError", "HubRejected", "HubServerError", "HubUnauthorized", "HubUnreachable"]

_REASONS_IN_MESSAGE: Final = 3


class HubError(FxhubError):
    """The hub could not be used: unreachable, refused the token, rejected the input, or misbehaved."""


class HubUnreachable(HubError):
    """No answer from the hub: connection refused, timed out, or dropped mid-request.

    Safe to retry: the hub's writes are idempotent, so a push that was in flight can be repeated.
    """

    def __init__(self, url: str, cause: str) -> None:
        self.url = url
        self.cause = cause
        super().__init__(
            f"cannot reach the fxhub hub at {url} ({cause}); is `fxhub serve` running? "
            "Start it, or point FXHUB_URL at the running hub"
        )


class HubUnauthorized(HubError):
    """The hub answered 401: the token is missing or not the hub's."""

    def __init__(self, url: str, server_message: str, token_origin: str) -> None:
        self.url = url
        self.server_message = server_message
        self.token_origin = token_origin
        super().__init__(
            f"the hub at {url} refused the token (401: {server_message}); the token came from "
            f"{token_origin}. Set FXHUB_TOKEN to the hub's token, or let the client read the token file "
            "that `fxhub serve` writes on the same machine"
        )


class HubRejected(HubError):
    """The hub refused the input (422 invalid, 413 too large); nothing of that request was stored.

    `reasons` is the server's `detail` list (dicts such as ``{"index": 17, "field": "high", ...}``);
    for a push split into several requests, `index` counts from the start of the whole sequence.
    """

    def __init__(
        self,
        url: str,
        status_code: int,
        server_message: str,
        reasons: Sequence[Mapping[str, Any]],
        *,
        stored_before: int = 0,
    ) -> None:
        self.url = url
        self.status_code = status_code
        self.server_message = server_message
        self.reasons: list[dict[str, Any]] = [dict(reason) for reason in reasons]
        self.stored_before = stored_before
        shown = "; ".join(_describe(reason) for reason in self.reasons[:_REASONS_IN_MESSAGE])
        more = len(self.reasons) - _REASONS_IN_MESSAGE
        text = f"the hub at {url} rejected the request ({status_code}: {server_message})"
        if shown:
            text += f": {shown}" + (f" (and {more} more)" if more > 0 else "")
        if stored_before:
            text += f"; the first {stored_before} candles were stored by earlier requests"
        super().__init__(text + "; fix or drop the offending input and send it again")


class HubServerError(HubError):
    """The hub answered 5xx (for example its store is down); the request may be retried later."""

    def __init__(self, url: str, status_code: int, server_message: str) -> None:
        self.url = url
        self.status_code = status_code
        self.server_message = server_message
        super().__init__(
            f"the hub at {url} failed with {status_code} ({server_message}); retry later and check "
            "the hub's log and `GET /healthz`"
        )


def _describe(reason: Mapping[str, Any]) -> str:
    """One reason as `candle 17: `high` must be ≥ low (1.2), was 1.1`, or its message."""
    if "field" in reason and "rule" in reason:
        where = f"candle {reason['index']}: " if "index" in reason else ""
        value = f", was {reason['value']!r}" if "value" in reason else ""
        return f"{where}`{reason['field']}` {reason['rule']}{value}"
    if "message" in reason:
        return str(reason["message"])
    if "msg" in reason:  # FastAPI's own validation errors: {"loc": [...], "msg": ...}
        location = ".".join(str(part) for part in reason.get("loc", ()))
        return f"{location}: {reason['msg']}" if location else str(reason["msg"])
    return repr(dict(reason))
