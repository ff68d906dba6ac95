"""CME quarterly FX futures: contract symbols, last trade, and which one is the front.

Facts (DOMAIN.md §2): March, June, September, December (H, M, U, Z); trading ends 09:16 Central Time two
business days before the third Wednesday of the contract month; liquidity moves to the next quarter
about a week before. fxhub takes the roll at the 17:00 CT session open seven days before the last
trade date. Business days here skip weekends only; a holiday in those two days is not modelled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from fxhub.errors import ValidationError

__all__ = [
    "QUARTER_MONTH_CODES",
    "ROLL_DAYS_BEFORE_LAST_TRADE",
    "FuturesContract",
    "front_contract",
    "parse_contract_symbol",
]

CHICAGO: Final = ZoneInfo("America/Chicago")
QUARTER_MONTH_CODES: Final = {3: "H", 6: "M", 9: "U", 12: "Z"}
_CODE_MONTHS: Final = {code: month for month, code in QUARTER_MONTH_CODES.items()}
ROLL_DAYS_BEFORE_LAST_TRADE: Final = 7
_LAST_TRADE_TIME_CT: Final = time(9, 16)
_SESSION_OPEN_CT: Final = time(17, 0)
_OUTRIGHT_RE: Final = re.compile(r"(?P<root>[0-9A-Z]{1,4}?)(?P<code>[HMUZ])(?P<year>\d{1,2})")


@dataclass(frozen=True, slots=True, order=True)
class FuturesContract:
    """One quarterly contract of a product, e.g. 6E December 2025 (raw symbol ``6EZ5``)."""

    year: int
    month: int
    product: str

    @property
    def raw_symbol(self) -> str:
        """Globex raw symbol with a one-digit year, as Databento spells it."""
        return f"{self.product}{QUARTER_MONTH_CODES[self.month]}{self.year % 10}"

    @property
    def last_trade(self) -> datetime:
        """The end of trading (UTC): 09:16 CT two business days before the third Wednesday."""
        day = _third_wednesday(self.year, self.month)
        remaining = 2
        while remaining:
            day -= timedelta(days=1)
            if day.weekday() < 5:
                remaining -= 1
        return datetime.combine(day, _LAST_TRADE_TIME_CT, CHICAGO).astimezone(UTC)

    @property
    def roll_at(self) -> datetime:
        """When fxhub treats the next quarter as the front (UTC)."""
        last_day = self.last_trade.astimezone(CHICAGO).date()
        roll_day = last_day - timedelta(days=ROLL_DAYS_BEFORE_LAST_TRADE)
        return datetime.combine(roll_day, _SESSION_OPEN_CT, CHICAGO).astimezone(UTC)

    def next(self) -> FuturesContract:
        if self.month == 12:
            return FuturesContract(self.year + 1, 3, self.product)
        return FuturesContract(self.year, self.month + 3, self.product)


def front_contract(product: str, at: datetime) -> FuturesContract:
    """The contract that holds the liquidity of `product` at the instant `at` (timezone-aware)."""
    if at.tzinfo is None:
        raise ValidationError("at", at, "must be timezone-aware", where="front_contract")
    quarter_month = ((at.month - 1) // 3 + 1) * 3
    contract = FuturesContract(at.year, quarter_month, product)
    while at >= contract.roll_at:
        contract = contract.next()
    return contract


def parse_contract_symbol(raw_symbol: str, *, near: date) -> FuturesContract:
    """Read an outright symbol such as ``6EZ5``; the decade is the one that puts it nearest `near`.

    Calendar spreads (``6EZ5-6EH6``) and other shapes are refused.
    """
    match = _OUTRIGHT_RE.fullmatch(raw_symbol)
    if match is None:
        raise ValidationError(
            "raw_symbol", raw_symbol, "must be an outright quarterly future such as '6EZ5' (spreads are not)"
        )
    digits = match["year"]
    month = _CODE_MONTHS[match["code"]]
    modulus = 10 ** len(digits)
    base = near.year - near.year % modulus + int(digits)
    year = min((base - modulus, base, base + modulus), key=lambda y: abs(date(y, month, 15) - near))
    return FuturesContract(year, month, match["root"])


def _third_wednesday(year: int, month: int) -> date:
    first = date(year, month, 1)
    offset = (2 - first.weekday()) % 7  # Wednesday is weekday 2
    return first + timedelta(days=offset + 14)
