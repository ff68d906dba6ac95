"""From Databento instrument ids to what fxhub stores: raw symbol → contract → pair (or product root).

Instrument ids come from DBN metadata mappings, `SymbolMappingMsg` records and definitions. Only
outright futures are kept: calendar spreads (``6EZ5-6EH6``) and anything that is not a plain quarterly or
monthly contract are skipped. A CME FX product maps to its pair (6E → EUR_USD); any other future is stored
under its product root (ESU4 → ES), so the same tool builds real-volume candles for any CME future.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from fxhub.core.bars import BarTarget
from fxhub.instruments import InstrumentTable

__all__ = ["NON_FX_SPREAD_UNIT", "SymbolMap", "outright_root", "target_for"]

# Outright futures: root, one month code, a one- or two-digit year (6EZ5, ESU4, CLF25).
_OUTRIGHT: Final = re.compile(r"(?P<root>[0-9A-Z]{1,5}?)(?P<month>[FGHJKMNQUVXZ])(?P<year>\d{1,2})")
# Without a definition we do not know a non-FX contract's tick: its spreads are reported in price points.
NON_FX_SPREAD_UNIT: Final = 1.0


def outright_root(raw_symbol: str) -> str | None:
    """The product root of an outright future (``6EZ5`` → ``6E``), None for spreads and other shapes."""
    match = _OUTRIGHT.fullmatch(raw_symbol)
    return match["root"] if match else None


def target_for(raw_symbol: str, table: InstrumentTable) -> BarTarget | None:
    """What the candles of `raw_symbol` are stored as, or None when it is not an outright future."""
    root = outright_root(raw_symbol)
    if root is None:
        return None
    instrument = table.by_cme_product(root)
    if instrument is None or instrument.cme is None:
        return BarTarget(symbol=root, instrument=raw_symbol, pip_size=NON_FX_SPREAD_UNIT)
    return BarTarget(
        symbol=instrument.pair,
        instrument=raw_symbol,
        pip_size=instrument.pip_size,
        inverted=instrument.cme.inverted,
    )


@dataclass(slots=True)
class SymbolMap:
    """instrument_id → raw symbol, filled from whatever the source tells (metadata, mapping messages)."""

    raw_symbols: dict[int, str] = field(default_factory=dict)

    def add(self, instrument_id: int, raw_symbol: str) -> None:
        self.raw_symbols[int(instrument_id)] = raw_symbol

    def add_metadata_mappings(self, mappings: dict[str, list[dict[str, object]]]) -> None:
        """DBN metadata: input symbol → intervals whose `symbol` is the instrument id (raw-symbol input)."""
        for raw_symbol, intervals in mappings.items():
            for interval in intervals:
                value = str(interval.get("symbol", ""))
                if value.isdigit():
                    self.add(int(value), raw_symbol)

    def get(self, instrument_id: int) -> str | None:
        return self.raw_symbols.get(int(instrument_id))
