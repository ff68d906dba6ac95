"""The instrument table: spot pairs, their CME futures and their IG epics, read from TOML data."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Final

from fxhub.errors import ConfigError

__all__ = [
    "CmeProduct",
    "Instrument",
    "InstrumentTable",
    "SimProfile",
    "get_instrument",
    "load_instruments",
]

_DATA_FILE: Final = "instruments.toml"


@dataclass(frozen=True, slots=True, kw_only=True)
class CmeProduct:
    """A CME FX future (GLBX.MDP3) on the same currencies as a spot pair."""

    product: str  # Globex root, e.g. "6E"
    contract_size: int
    tick_size: float
    tick_value_usd: float
    inverted: bool  # quotes the reciprocal of the pair (6J: USD per JPY)

    @property
    def parent_symbol(self) -> str:
        """Databento parent symbology, e.g. ``"6E.FUT"``."""
        return f"{self.product}.FUT"


@dataclass(frozen=True, slots=True, kw_only=True)
class SimProfile:
    """How the simulator makes this pair's market look (see instruments.toml)."""

    mid: float
    mid_range: tuple[float, float]
    annual_vol: float
    spread_pips: float
    quotes_per_minute: float
    cme_trades_per_minute: float
    cme_book_updates_per_minute: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Instrument:
    """A spot FX pair with everything fxhub needs to know about it."""

    pair: str  # "EUR_USD"
    base: str
    quote: str
    pip_size: float
    ig_epics: tuple[str, ...]
    ig_price_increment: float
    cme: CmeProduct | None
    sim: SimProfile | None

    @property
    def ig_epic(self) -> str:
        """The default IG epic."""
        return self.ig_epics[0]

    def pips(self, price_difference: float) -> float:
        """A price difference in pips of this pair."""
        return price_difference / self.pip_size

    def spot_from_futures(self, price: float) -> float:
        """A futures price in the pair's quoting (6J: USD_JPY = 1 / price)."""
        if self.cme is not None and self.cme.inverted:
            return 1.0 / price
        return price

    def spot_ohlc_from_futures(
        self, open_: float, high: float, low: float, close: float
    ) -> tuple[float, float, float, float]:
        """Futures OHLC in the pair's quoting; inverting swaps high and low."""
        if self.cme is not None and self.cme.inverted:
            return (1.0 / open_, 1.0 / low, 1.0 / high, 1.0 / close)
        return (open_, high, low, close)


@dataclass(frozen=True, slots=True)
class InstrumentTable:
    """All known instruments, with the lookups the sources need."""

    instruments: tuple[Instrument, ...]
    rates: Mapping[str, float]

    def get(self, pair: str) -> Instrument:
        for instrument in self.instruments:
            if instrument.pair == pair:
                return instrument
        raise ConfigError(
            f"Unknown pair, was {pair!r}. Use one of {', '.join(self.pairs)}, "
            f"or add it to the instrument table ({_DATA_FILE})."
        )

    @property
    def pairs(self) -> tuple[str, ...]:
        return tuple(instrument.pair for instrument in self.instruments)

    def by_cme_product(self, product: str) -> Instrument | None:
        """The pair a CME product root ("6E") belongs to; None for a non-FX future such as "ES"."""
        for instrument in self.instruments:
            if instrument.cme is not None and instrument.cme.product == product:
                return instrument
        return None

    def by_epic(self, epic: str) -> Instrument | None:
        for instrument in self.instruments:
            if epic in instrument.ig_epics:
                return instrument
        return None

    def rate(self, currency: str) -> float:
        try:
            return self.rates[currency]
        except KeyError:
            raise ConfigError(
                f"No interest rate for currency {currency!r} in [rates] of the "
                f"instrument table; add one to compute the futures basis."
            ) from None


def load_instruments(path: Path | None = None) -> InstrumentTable:
    """Read an instrument table; without a path, the one shipped with fxhub (cached)."""
    if path is None:
        return _default_table()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"Cannot read the instrument table {path}: {exc}") from exc
    return _parse_table(raw, str(path))


def get_instrument(pair: str) -> Instrument:
    """The shipped definition of `pair` ("EUR_USD"); ConfigError listing the known pairs otherwise."""
    return _default_table().get(pair)


@cache
def _default_table() -> InstrumentTable:
    text = resources.files("fxhub.instruments").joinpath(_DATA_FILE).read_text(encoding="utf-8")
    return _parse_table(tomllib.loads(text), _DATA_FILE)


def _parse_table(raw: dict[str, Any], origin: str) -> InstrumentTable:
    rates = _parse_rates(raw.get("rates", {}), origin)
    instruments = []
    for pair, body in raw.items():
        if pair == "rates":
            continue
        if not isinstance(body, dict):
            raise ConfigError(
                f"Instrument {pair!r} in {origin} must be a table ([{pair}] with its fields), was {body!r}."
            )
        try:
            instruments.append(_parse_instrument(pair, body))
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(
                f"Instrument {pair!r} in {origin} is malformed ({exc!r}); "
                f"see the field list at the top of {_DATA_FILE}."
            ) from exc
    return InstrumentTable(tuple(instruments), rates)


def _parse_rates(raw: object, origin: str) -> dict[str, float]:
    if not isinstance(raw, dict):
        raise ConfigError(f"[rates] in {origin} must be a table of currency = annual rate, was {raw!r}.")
    rates = {}
    for currency, value in raw.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(
                f"Rate of {currency!r} in [rates] of {origin} must be a number such as 0.04, was {value!r}."
            )
        rates[str(currency)] = float(value)
    return rates


def _strict_bool(value: object, field: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{field} must be true or false, was {value!r}")
    return value


def _epics(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(e, str) and e for e in value):
        raise TypeError(f"ig_epics must be a non-empty list of epic strings, was {value!r}")
    return tuple(value)


def _parse_instrument(pair: str, body: dict[str, Any]) -> Instrument:
    cme = body.get("cme")
    sim = body.get("sim")
    return Instrument(
        pair=pair,
        base=str(body["base"]),
        quote=str(body["quote"]),
        pip_size=float(body["pip_size"]),
        ig_epics=_epics(body["ig_epics"]),
        ig_price_increment=float(body["ig_price_increment"]),
        cme=None
        if cme is None
        else CmeProduct(
            product=str(cme["product"]),
            contract_size=int(cme["contract_size"]),
            tick_size=float(cme["tick_size"]),
            tick_value_usd=float(cme["tick_value_usd"]),
            inverted=_strict_bool(cme["inverted"], "cme.inverted"),
        ),
        sim=None
        if sim is None
        else SimProfile(
            mid=float(sim["mid"]),
            mid_range=(float(sim["mid_range"][0]), float(sim["mid_range"][1])),
            annual_vol=float(sim["annual_vol"]),
            spread_pips=float(sim["spread_pips"]),
            quotes_per_minute=float(sim["quotes_per_minute"]),
            cme_trades_per_minute=float(sim["cme_trades_per_minute"]),
            cme_book_updates_per_minute=float(sim["cme_book_updates_per_minute"]),
        ),
    )
