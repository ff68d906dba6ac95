"""Reading a push: the body within its byte limit, then every candle checked before anything is stored."""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from fxhub.errors import ValidationError
from fxhub.hub.server.errors import HubHTTPError
from fxhub.hub.store.base import UpsertResult
from fxhub.model import Candle

__all__ = ["CandleProblem", "parse_push", "push_summary", "read_limited_body"]


async def read_limited_body(
    content_length: str | None, chunks: AsyncIterator[bytes], max_bytes: int
) -> bytes:
    """The request body, refused with 413 as soon as it is known to exceed `max_bytes`.

    A declared `Content-Length` over the limit is refused before a byte is read; a body without one (or
    lying about it) is counted as it streams in.
    """
    if content_length is not None and content_length.strip().isdigit() and int(content_length) > max_bytes:
        raise _too_large(int(content_length), max_bytes)
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) > max_bytes:
            raise _too_large(len(body), max_bytes, at_least=True)
    return bytes(body)


def _too_large(size: int, max_bytes: int, *, at_least: bool = False) -> HubHTTPError:
    came = f"{'at least ' if at_least else ''}{size:,} bytes"
    return HubHTTPError(
        413,
        f"a push body may hold at most {max_bytes:,} bytes, this one has {came}; "
        "split it into smaller batches",
        {"max_bytes": max_bytes},
    )


@dataclass(frozen=True, slots=True)
class CandleProblem:
    """Why candle number `index` of a batch was refused."""

    index: int
    field: str
    value: Any
    rule: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        """The item of a 422 answer's `detail` list."""
        return {
            "index": self.index,
            "field": self.field,
            "value": self.value,
            "rule": self.rule,
            "message": self.message,
        }


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text} does not fit in a double")
    return number


def _load(body: bytes) -> Any:
    """The JSON document of a push body, or a 422 saying why it could not be read.

    orjson reads a 1,000-candle push several times faster than json and refuses what the hub refuses
    (NaN, Infinity, numbers beyond a double). Whatever it refuses is read again by json, whose verdict
    and message stand, so such a body (an integer too large for a double, UTF-16, a lone surrogate)
    gets the answer it always got. The one difference: an integer beyond 64 bits that fits in a double
    comes as that float, the same number for a price, and refused alike as a count (over 2**63 - 1).
    """
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(body, parse_constant=_refuse_constant, parse_float=_finite_float)
    except (ValueError, RecursionError) as exc:
        detail = {"position": exc.pos} if isinstance(exc, json.JSONDecodeError) else None
        raise HubHTTPError(
            422,
            f'the body must be JSON like {{"candles": [...]}}, it could not be read ({exc}); '
            "fix the encoding",
            detail,
        ) from None


def parse_push(body: bytes, max_candles: int) -> list[Candle]:
    """The candles of a push body, or `HubHTTPError` (422, or 413 for too many) naming every problem."""
    document = _load(body)
    if (
        not isinstance(document, dict)
        or set(document) != {"candles"}
        or not isinstance(document["candles"], list)
    ):
        came = sorted(document) if isinstance(document, dict) else type(document).__name__
        raise HubHTTPError(
            422,
            f'the body must be an object with exactly one key, "candles", holding a list, was {came!r}; '
            'send {"candles": [<candle>, ...]}',
        )
    items: list[Any] = document["candles"]
    if not items:
        raise HubHTTPError(422, "a push needs 1 or more candles, the list was empty; send at least one")
    if len(items) > max_candles:
        raise HubHTTPError(
            413,
            f"a push may hold at most {max_candles:,} candles, this one has {len(items):,}; "
            "split it into smaller batches",
            {"max_candles": max_candles},
        )
    candles: list[Candle] = []
    problems: list[CandleProblem] = []
    for index, item in enumerate(items):
        try:
            candles.append(Candle.from_dict(item))
        except ValidationError as exc:
            problems.append(CandleProblem(index, exc.field, _plain(exc.value), exc.rule, str(exc)))
        except (TypeError, ValueError, OverflowError) as exc:  # a value Candle could not even compare
            problems.append(CandleProblem(index, "candle", _plain(item), "must be a valid candle", str(exc)))
    if problems:
        raise HubHTTPError(
            422,
            f"{len(problems)} of {len(items)} candles are invalid; nothing was stored. "
            "Fix the candles named in `detail` and push the batch again",
            [problem.to_dict() for problem in problems],
        )
    return candles


def _plain(value: Any) -> Any:
    """`value` if it is plain JSON data (it came from the body), else its repr."""
    if value is None or isinstance(value, str | int | float | bool | list | Mapping):
        return value
    return repr(value)


def push_summary(result: UpsertResult) -> dict[str, Any]:
    """The 200 answer to a push."""
    return {
        "inserted": result.inserted,
        "replaced": result.replaced,
        "unchanged": result.unchanged,
        "replaced_keys": [
            {"symbol": symbol, "source": source, "timestamp": ts.strftime("%Y-%m-%dT%H:%M:%SZ")}
            for symbol, source, ts in result.replaced_keys
        ],
    }
