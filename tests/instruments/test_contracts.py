from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from fxhub.errors import ValidationError
from fxhub.instruments import FuturesContract, front_contract, parse_contract_symbol
from fxhub.instruments.contracts import ROLL_DAYS_BEFORE_LAST_TRADE

CT = ZoneInfo("America/Chicago")
EZ5 = FuturesContract(2025, 12, "6E")
EH6 = FuturesContract(2026, 3, "6E")
EH4 = FuturesContract(2024, 3, "6E")
ONE_MICROSECOND = timedelta(microseconds=1)


# --- symbols ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("contract", "raw_symbol"),
    [
        (EZ5, "6EZ5"),
        (FuturesContract(2026, 3, "6J"), "6JH6"),
        (FuturesContract(2026, 6, "6B"), "6BM6"),
        (FuturesContract(2030, 9, "6E"), "6EU0"),
        (FuturesContract(2026, 3, "ES"), "ESH6"),
    ],
)
def test_raw_symbol_is_product_month_code_and_one_digit_year(
    contract: FuturesContract, raw_symbol: str
) -> None:
    assert contract.raw_symbol == raw_symbol


# --- last trade and roll --------------------------------------------------------------------------------


def test_last_trade_of_6ez5_is_monday_15_december_0916_chicago_1516_utc() -> None:
    # Third Wednesday of December 2025 is the 17th; two business days before is Monday the 15th (CST).
    assert EZ5.last_trade == datetime(2025, 12, 15, 15, 16, tzinfo=UTC)
    assert EZ5.last_trade.astimezone(CT) == datetime(2025, 12, 15, 9, 16, tzinfo=CT)
    assert EZ5.last_trade.tzinfo is UTC


def test_last_trade_of_6eh4_is_monday_18_march_0916_chicago_in_cdt_1416_utc() -> None:
    # Third Wednesday of March 2024 is the 20th; CDT began on 10 March, so 09:16 CT is 14:16 UTC.
    assert EH4.last_trade == datetime(2024, 3, 18, 14, 16, tzinfo=UTC)


@pytest.mark.parametrize(
    ("contract", "last_trade"),
    [
        # 2023-03-01 is a Wednesday: the third Wednesday is the 15th.
        (FuturesContract(2023, 3, "6E"), datetime(2023, 3, 13, 14, 16, tzinfo=UTC)),
        # 2025-06-01 is a Sunday: the third Wednesday is the 18th.
        (FuturesContract(2025, 6, "6E"), datetime(2025, 6, 16, 14, 16, tzinfo=UTC)),
        # 2025-09-01 is a Monday: the third Wednesday is the 17th.
        (FuturesContract(2025, 9, "6B"), datetime(2025, 9, 15, 14, 16, tzinfo=UTC)),
        # 2026-03-01 is a Sunday: the third Wednesday is the 18th; CDT from 8 March.
        (FuturesContract(2026, 3, "6J"), datetime(2026, 3, 16, 14, 16, tzinfo=UTC)),
    ],
)
def test_last_trade_is_0916_chicago_two_business_days_before_third_wednesday(
    contract: FuturesContract, last_trade: datetime
) -> None:
    assert contract.last_trade == last_trade
    local = contract.last_trade.astimezone(CT)
    assert local.weekday() == 0  # Wednesday minus two business days is always Monday
    assert 15 <= local.day + 2 <= 21


def test_roll_of_6ez5_is_1700_chicago_one_week_before_last_trade_day() -> None:
    # 2025-12-08 17:00 CST.
    assert EZ5.roll_at == datetime(2025, 12, 8, 23, 0, tzinfo=UTC)
    assert EZ5.roll_at.tzinfo is UTC
    roll_local = EZ5.roll_at.astimezone(CT)
    last_local = EZ5.last_trade.astimezone(CT)
    assert last_local.date() - roll_local.date() == timedelta(days=ROLL_DAYS_BEFORE_LAST_TRADE)
    assert (roll_local.hour, roll_local.minute) == (17, 0)


def test_roll_of_6eh4_is_1700_chicago_in_cdt() -> None:
    # 2024-03-11 17:00 CDT (DST began 2024-03-10).
    assert EH4.roll_at == datetime(2024, 3, 11, 22, 0, tzinfo=UTC)


def test_roll_is_before_last_trade() -> None:
    for contract in (EH4, EZ5, EH6):
        assert contract.roll_at < contract.last_trade


# --- front contract -------------------------------------------------------------------------------------


def test_next_of_december_wraps_to_march_of_next_year() -> None:
    assert EZ5.next() == EH6
    assert EH6.next() == FuturesContract(2026, 6, "6E")


def test_contracts_order_by_expiry() -> None:
    assert EH4 < EZ5 < EH6
    assert sorted([EH6, EH4, EZ5]) == [EH4, EZ5, EH6]


def test_front_contract_mid_quarter_is_that_quarters_contract() -> None:
    assert front_contract("6E", datetime(2025, 10, 15, 12, 0, tzinfo=UTC)) == EZ5


def test_front_contract_just_before_roll_is_expiring_contract() -> None:
    assert front_contract("6E", EZ5.roll_at - ONE_MICROSECOND) == EZ5


def test_front_contract_at_and_after_roll_is_next_quarter_across_year_end() -> None:
    assert front_contract("6E", EZ5.roll_at) == EH6
    assert front_contract("6E", datetime(2025, 12, 12, 12, 0, tzinfo=UTC)) == EH6
    assert front_contract("6E", datetime(2025, 12, 31, 23, 59, tzinfo=UTC)) == EH6
    assert front_contract("6E", datetime(2026, 1, 2, 0, 0, tzinfo=UTC)) == EH6


def test_front_contract_after_last_trade_is_next_quarter() -> None:
    assert front_contract("6E", EH4.last_trade + ONE_MICROSECOND) == FuturesContract(2024, 6, "6E")


def test_front_contract_keeps_the_product() -> None:
    assert front_contract("6J", datetime(2025, 11, 3, tzinfo=UTC)).raw_symbol == "6JZ5"


def test_front_contract_same_instant_in_any_zone_gives_same_contract() -> None:
    instant = EZ5.roll_at
    for zone in (UTC, CT, ZoneInfo("Asia/Tokyo")):
        assert front_contract("6E", instant.astimezone(zone)) == EH6
        assert front_contract("6E", (instant - ONE_MICROSECOND).astimezone(zone)) == EZ5


def test_front_contract_when_time_naive_names_field_and_rule() -> None:
    with pytest.raises(ValidationError) as info:
        front_contract("6E", datetime(2025, 12, 1, 12, 0))
    assert info.value.field == "at"
    assert "timezone-aware" in str(info.value)


# --- parsing raw symbols --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw_symbol", "near", "expected"),
    [
        ("6EZ5", date(2025, 11, 3), EZ5),
        ("6JH6", date(2025, 11, 3), FuturesContract(2026, 3, "6J")),
        ("6EH4", date(2024, 1, 15), EH4),
        # the decade that puts the contract nearest `near`
        ("6EH0", date(2029, 11, 1), FuturesContract(2030, 3, "6E")),
        ("6EZ9", date(2030, 2, 1), FuturesContract(2029, 12, "6E")),
        ("6BM1", date(2020, 12, 31), FuturesContract(2021, 6, "6B")),
        # two-digit years
        ("6EZ25", date(2025, 11, 3), EZ5),
        ("6EH00", date(2099, 12, 1), FuturesContract(2100, 3, "6E")),
        # roots that contain a month letter
        ("6HZ5", date(2025, 11, 3), FuturesContract(2025, 12, "6H")),
        ("ESH6", date(2025, 11, 3), FuturesContract(2026, 3, "ES")),
    ],
)
def test_parse_contract_symbol_picks_the_nearest_decade(
    raw_symbol: str, near: date, expected: FuturesContract
) -> None:
    assert parse_contract_symbol(raw_symbol, near=near) == expected


def test_parse_contract_symbol_round_trips_raw_symbol() -> None:
    for contract in (EH4, EZ5, EH6, FuturesContract(2026, 9, "6J")):
        assert parse_contract_symbol(contract.raw_symbol, near=date(2025, 6, 1)) == contract


@pytest.mark.parametrize("raw_symbol", ["6EZ5-6EH6", "6EX5", "6ez5", "6EZ", "", "6EZ5 ", "6EZ123", "6E.FUT"])
def test_parse_contract_symbol_when_not_an_outright_names_field_and_rule(raw_symbol: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_contract_symbol(raw_symbol, near=date(2025, 11, 3))
    assert info.value.field == "raw_symbol"
    assert info.value.value == raw_symbol
    assert "outright quarterly future" in str(info.value)


def test_parse_contract_symbol_when_trailing_newline_is_refused() -> None:
    with pytest.raises(ValidationError):
        parse_contract_symbol("6EZ5\n", near=date(2025, 11, 3))
