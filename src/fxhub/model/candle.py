"""The 1-minute candle every part of fxhub speaks.

A candle covers [timestamp, timestamp + 60 s) in UTC and is labelled with its open time, as Databento's
own ohlcv-1m bars are. It carries its source and what its volume means, so no consumer can mistake a
quote count for traded contracts.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any, Final, TypeVar

from fxhub.errors import ValidationError
from fxhub.model.enums import SOURCE_VOLUME_TYPE, PriceBasis, Source, VolumeType

__all__ = ["CANDLE_INTERVAL", "Candle", "parse_utc_timestamp"]

CANDLE_INTERVAL: Final = timedelta(minutes=1)
_SYMBOL_RE: Final = re.compile(r"[A-Z0-9]{1,12}(_[A-Z0-9]{1,12})?")
_E = TypeVar("_E", Source, VolumeType, PriceBasis)
_MAX_COUNT: Final = 2**63 - 1  # fits every store's integer column
_EARLIEST: Final = datetime(1970, 1, 1, tzinfo=UTC)
_LATEST: Final = datetime(2200, 1, 1, tzinfo=UTC)
# buy + sell volume may not exceed volume; float sums get this much slack.
_VOLUME_SLACK: Final = 1e-9


def parse_utc_timestamp(value: object, *, field: str = "timestamp", where: str = "Candle") -> datetime:
    """Read a timezone-aware instant (datetime or ISO 8601 text) and return it in UTC.

    A naive value is refused: guessing its zone is how candles end up an hour off after a DST switch.
    """
    if type(value) is str:
        # Fast path for what fxhub itself writes ("...Z"): an instant already in UTC is the answer.
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is UTC:
            return parsed
    if isinstance(value, str):
        text = value.strip()
        try:
            parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
        except ValueError:
            raise ValidationError(
                field, value, "must be an ISO 8601 time such as 2025-11-03T21:00:00Z", where=where
            ) from None
        value = parsed
    if not isinstance(value, datetime):
        raise ValidationError(field, value, "must be a datetime or ISO 8601 text", where=where)
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError(
            field, value, "must be timezone-aware (UTC); a naive time is ambiguous", where=where
        )
    try:
        return value.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+00:01 is before the first representable instant
        raise ValidationError(field, value, "must lie within years 1 to 9999 in UTC", where=where) from None


@dataclass(frozen=True, slots=True, kw_only=True)
class Candle:
    """One minute of one instrument from one source.

    Required: `symbol` (a pair such as ``"EUR_USD"``, or a CME product root such as ``"ES"``),
    `timestamp` (UTC minute start), OHLC, `volume`, `source` and `volume_type`.
    The rest are per-minute extras that a source fills where it has them.
    """

    symbol: str
    timestamp: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float
    source: Source
    volume_type: VolumeType
    # Extras: None means "this source does not know".
    vwap: float | None = None  # trade VWAP of the minute (real volume only)
    buy_volume: float | None = None  # buy-aggressor volume
    sell_volume: float | None = None  # sell-aggressor volume
    trade_count: int | None = None
    quote_count: int | None = None  # book or quote updates seen in the minute
    avg_spread_pips: float | None = None
    max_spread_pips: float | None = None
    ofi: float | None = None  # order-flow imbalance at the best level, in contracts
    ofi_multi: float | None = None  # multi-level OFI normalised by depth
    price_basis: PriceBasis | None = None  # spot or futures prices
    instrument: str | None = None  # the contract or epic the minute came from, e.g. "6EZ5"
    complete: bool | None = None  # False when the feed had a gap inside the minute

    def __post_init__(self) -> None:
        # Every candle a push carries comes through here, so the checks run on fast paths (exact float,
        # UTC datetime, enum member looked up by value) and the error's `where` is only formatted when
        # something is wrong: it names the symbol and timestamp as they were given.
        symbol, timestamp = self.symbol, self.timestamp
        try:
            self._check_core()
            self._check_extras()
        except ValidationError as exc:
            if exc.where != _WHERE_LATER:
                raise
            where = f"Candle {symbol!r} at {timestamp!r}" if isinstance(symbol, str) else "Candle"
            raise ValidationError(exc.field, exc.value, exc.rule, where=where) from None

    def _check_core(self) -> None:
        where = _WHERE_LATER
        set_ = _SET
        if not isinstance(self.symbol, str) or not _SYMBOL_RE.fullmatch(self.symbol):
            raise ValidationError(
                "symbol",
                self.symbol,
                "must be upper-case like 'EUR_USD' (a pair) or 'ES' (a CME product)",
                where="Candle",
            )
        ts = self.timestamp
        if type(ts) is not datetime or ts.tzinfo is not UTC:
            ts = parse_utc_timestamp(ts, where=where)
        if ts.second or ts.microsecond:
            raise ValidationError(
                "timestamp",
                self.timestamp,
                "must be a minute start (seconds and microseconds zero)",
                where=where,
            )
        if not _EARLIEST <= ts < _LATEST:
            rule = "must lie in the years 1970 to 2199"
            raise ValidationError("timestamp", self.timestamp, rule, where=where)
        if ts is not self.timestamp:
            set_(self, "timestamp", ts)
        source = _enum(Source, _SOURCES, "source", self.source, where)
        volume_type = _enum(VolumeType, _VOLUME_TYPES, "volume_type", self.volume_type, where)
        set_(self, "source", source)
        set_(self, "volume_type", volume_type)
        expected = SOURCE_VOLUME_TYPE[source]
        if volume_type is not expected:
            raise ValidationError(
                "volume_type",
                str(volume_type),
                f"must be {expected.value!r} for source {source.value}",
                where=where,
            )
        for name in ("open", "high", "low", "close"):
            value = getattr(self, name)
            price = _number(name, value, where)
            if price <= 0:
                raise ValidationError(name, price, "must be a positive price", where=where)
            if price is not value:
                set_(self, name, price)
        low, high = self.low, self.high
        if high < low:
            raise ValidationError("high", high, f"must be ≥ low ({low})", where=where)
        for name in ("open", "close"):
            price = getattr(self, name)
            if not low <= price <= high:
                raise ValidationError(
                    name, price, f"must lie within [low, high] = [{low}, {high}]", where=where
                )
        volume = _non_negative("volume", self.volume, where)
        if volume is not self.volume:
            set_(self, "volume", volume)

    def _check_extras(self) -> None:
        where = _WHERE_LATER
        set_ = _SET
        for name in ("buy_volume", "sell_volume", "avg_spread_pips", "max_spread_pips"):
            value = getattr(self, name)
            if value is not None:
                number = _non_negative(name, value, where)
                if number is not value:
                    set_(self, name, number)
        for name in ("trade_count", "quote_count"):
            count = getattr(self, name)
            if count is None or (type(count) is int and 0 <= count <= _MAX_COUNT):
                continue
            if (
                isinstance(count, bool)
                or not isinstance(count, int | float)
                or (isinstance(count, float) and not count.is_integer())
            ):
                raise ValidationError(name, count, "must be a whole number", where=where)
            if count < 0:
                raise ValidationError(name, count, "must be ≥ 0", where=where)
            if count > _MAX_COUNT:
                raise ValidationError(name, count, f"must be ≤ {_MAX_COUNT}", where=where)
            set_(self, name, int(count))
        if self.vwap is not None:
            vwap = _number("vwap", self.vwap, where)
            if vwap <= 0:
                raise ValidationError("vwap", vwap, "must be a positive price", where=where)
            set_(self, "vwap", vwap)
        for name in ("ofi", "ofi_multi"):
            value = getattr(self, name)
            if value is not None:
                number = _number(name, value, where)
                if number is not value:
                    set_(self, name, number)
        sided = (self.buy_volume or 0.0) + (self.sell_volume or 0.0)
        if sided > self.volume * (1 + _VOLUME_SLACK) + _VOLUME_SLACK:
            raise ValidationError(
                "buy_volume",
                self.buy_volume,
                f"plus sell_volume ({self.sell_volume}) must not exceed volume ({self.volume})",
                where=where,
            )
        if (
            self.avg_spread_pips is not None
            and self.max_spread_pips is not None
            and self.avg_spread_pips > self.max_spread_pips * (1 + _VOLUME_SLACK)
        ):
            raise ValidationError(
                "avg_spread_pips",
                self.avg_spread_pips,
                f"must be ≤ max_spread_pips ({self.max_spread_pips})",
                where=where,
            )
        if self.price_basis is not None:
            set_(self, "price_basis", _enum(PriceBasis, _PRICE_BASES, "price_basis", self.price_basis, where))
        if self.instrument is not None and (not isinstance(self.instrument, str) or not self.instrument):
            raise ValidationError("instrument", self.instrument, "must be a non-empty string", where=where)
        if self.complete is not None and not isinstance(self.complete, bool):
            raise ValidationError("complete", self.complete, "must be true or false", where=where)

    @property
    def key(self) -> tuple[str, str, datetime]:
        """The identity a store keeps one row for: (symbol, source, timestamp)."""
        # `_value_` is the member's value attribute itself; `.value` is a Python-level property, and a
        # store computes keys several times per candle it writes.
        return (self.symbol, self.source._value_, self.timestamp)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values; extras the source did not fill are left out."""
        # Hot path (every hub response and push): no dataclasses.fields(), no per-field isinstance.
        # The timestamp is a validated UTC minute start in 1970..2199, so isoformat() is
        # "YYYY-MM-DDTHH:MM:00+00:00" and its first 19 characters are the seconds-precision form.
        out: dict[str, Any] = {
            "symbol": self.symbol,
            "timestamp": self.timestamp.isoformat()[:19] + "Z",
            "open": self.open,
            "high": self.high,
            "low": self.low,
            "close": self.close,
            "volume": self.volume,
            "source": self.source.value,
            "volume_type": self.volume_type.value,
        }
        for name in _EXTRA_NAMES:
            value = getattr(self, name)
            if value is not None:
                out[name] = value.value if name == "price_basis" else value
        return out

    @classmethod
    def _trusted(cls, values: Mapping[str, Any]) -> Candle:
        """A candle from values that were validated and normalised before: fields set, no checks.

        Only for candles read back from fxhub's own store or hub, which accepted them through the
        validating constructor. `values` must hold the required fields already as their final types
        (UTC `datetime`, floats, `Source`/`VolumeType`/`PriceBasis` members) and extras or nothing.
        """
        candle = object.__new__(cls)
        get = values.get
        for set_slot, name in _SLOT_SETTERS:
            set_slot(candle, get(name))
        return candle

    @classmethod
    def _from_trusted_dict(cls, data: Mapping[str, Any]) -> Candle:
        """The inverse of `to_dict` for a hub's own output: shape checked, values not re-validated.

        Raises `ValidationError` (or `KeyError`/`TypeError`/`ValueError`) for a body that is not
        `to_dict` output, so a foreign or broken answer still fails loudly instead of half-parsing.
        """
        if type(data) is not dict or not _FIELD_NAMES.issuperset(data) or not data.keys() >= _REQUIRED_SET:
            return cls.from_dict(data)  # the full path names what is wrong
        text, basis = data["timestamp"], data.get("price_basis")
        source = _SOURCES.get(data["source"])
        volume_type = _VOLUME_TYPES.get(data["volume_type"])
        if (
            type(text) is not str
            or len(text) != 20
            or not text.endswith(":00Z")
            or source is None
            or volume_type is None
            or (basis is not None and basis not in _PRICE_BASES)
        ):
            return cls.from_dict(data)  # the full path names what is wrong
        # Clients read 100 of these per latest-100, so no copy of `data`: slots are set from it directly,
        # then the four fields that need their model types. "...Z" parses to a UTC datetime (3.11+).
        candle = object.__new__(cls)
        get = data.get
        for set_slot, name in _SLOT_SETTERS:
            set_slot(candle, get(name))
        _SET(candle, "timestamp", datetime.fromisoformat(text))
        _SET(candle, "source", source)
        _SET(candle, "volume_type", volume_type)
        if basis is not None:
            _SET(candle, "price_basis", _PRICE_BASES[basis])
        return candle

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Candle:
        """The inverse of `to_dict`; unknown keys are refused so that a typo never drops a field."""
        if type(data) is dict and _FIELD_NAMES.issuperset(data) and data.keys() >= _REQUIRED_SET:
            # The common case (a push validates every candle): what `cls(**data)` does, without packing
            # the keyword arguments and the frozen dataclass's per-field __setattr__; absent extras are
            # None, and the one validation, `__post_init__`, runs on the result as the constructor runs it.
            candle = object.__new__(cls)
            get = data.get
            for set_slot, name in _SLOT_SETTERS:
                set_slot(candle, get(name))
            candle.__post_init__()
            return candle
        if not isinstance(data, Mapping):
            raise ValidationError("candle", data, "must be a JSON object", where="Candle")
        known = _FIELD_NAMES
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValidationError(
                unknown[0],
                data[unknown[0]],
                f"is not a Candle field (known: {', '.join(sorted(known))})",
                where="Candle",
            )
        missing = [name for name in _REQUIRED if name not in data]
        if missing:
            raise ValidationError(missing[0], None, "is required", where="Candle")
        return cls(**dict(data))


def _enum(kind: type[_E], members: Mapping[str, _E], field: str, value: object, where: str) -> _E:
    if isinstance(value, str):
        member = members.get(value)  # what kind(value) finds, without the Enum call's overhead
        if member is not None:
            return member
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return kind(value)
    except ValueError:
        allowed = ", ".join(repr(member.value) for member in kind)
        raise ValidationError(field, value, f"must be one of {allowed}", where=where) from None


def _number(field: str, value: object, where: str) -> float:
    if type(value) is float and value - value == 0.0:  # finite: inf - inf and nan - nan are nan
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(field, value, "must be a number", where=where)
    number = float(value)
    if not math.isfinite(number):
        raise ValidationError(field, value, "must be finite (not NaN or infinite)", where=where)
    return number


def _non_negative(field: str, value: object, where: str) -> float:
    number = _number(field, value, where)
    if number < 0:
        raise ValidationError(field, number, "must be ≥ 0", where=where)
    return number


_FIELD_ORDER: Final = tuple(f.name for f in fields(Candle))
_FIELD_NAMES: Final = frozenset(_FIELD_ORDER)
_REQUIRED: Final = ("symbol", "timestamp", "open", "high", "low", "close", "volume", "source", "volume_type")
_REQUIRED_SET: Final = frozenset(_REQUIRED)
_EXTRA_NAMES: Final = tuple(name for name in _FIELD_ORDER if name not in _REQUIRED_SET)
_WHERE_LATER: Final = "\x00where"
"""The `where` of a check's error until `__post_init__` formats the real one (only when it fails)."""
_SET: Final = object.__setattr__  # bypasses the frozen dataclass's __setattr__, as __post_init__ does
# Each field's slot setter: what object.__setattr__ finds by name, called directly (trusted paths only).
_SLOT_SETTERS: Final = tuple((getattr(Candle, name).__set__, name) for name in _FIELD_ORDER)
_SOURCES: Final = {member.value: member for member in Source}
_VOLUME_TYPES: Final = {member.value: member for member in VolumeType}
_PRICE_BASES: Final = {member.value: member for member in PriceBasis}
