"""Instruments: spot pairs, their CME futures and IG epics, and the quarterly contract cycle."""

from fxhub.instruments.contracts import FuturesContract, front_contract, parse_contract_symbol
from fxhub.instruments.table import (
    CmeProduct,
    Instrument,
    InstrumentTable,
    SimProfile,
    get_instrument,
    load_instruments,
)

__all__ = [
    "CmeProduct",
    "FuturesContract",
    "Instrument",
    "InstrumentTable",
    "SimProfile",
    "front_contract",
    "get_instrument",
    "load_instruments",
    "parse_contract_symbol",
]
