from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fxhub.errors import FxhubError, ValidationError
from fxhub.sessions import (
    cme_is_open,
    cme_next_close,
    cme_next_open,
    cme_open_intervals,
    cme_session_start,
    fx_is_open,
    fx_session_start,
    fx_trade_date,
)

CT = ZoneInfo("America/Chicago")
NY = ZoneInfo("America/New_York")


def ct(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=CT)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def open_hours(intervals: list[tuple[datetime, datetime]]) -> float:
    return sum((b - a).total_seconds() for a, b in intervals) / 3600


# --- CME daily break, weekly open and close -------------------------------------------------------------


def test_cme_daily_break_is_closed_between_1600_and_1700_chicago() -> None:
    assert cme_is_open(ct(2025, 11, 4, 15, 59))
    assert not cme_is_open(ct(2025, 11, 4, 16, 0))
    assert not cme_is_open(ct(2025, 11, 4, 16, 30))
    assert cme_is_open(ct(2025, 11, 4, 17, 0))


def test_cme_next_open_from_daily_break_is_1700_chicago_same_day() -> None:
    assert cme_next_open(ct(2025, 11, 4, 16, 30)) == ct(2025, 11, 4, 17, 0)


def test_cme_next_open_when_open_returns_t_itself_in_utc() -> None:
    t = ct(2025, 11, 4, 10, 0)
    result = cme_next_open(t)
    assert result == t
    assert result.tzinfo is UTC


def test_cme_sunday_opens_at_1700_chicago() -> None:
    assert not cme_is_open(ct(2025, 11, 9, 16, 59))
    assert cme_is_open(ct(2025, 11, 9, 17, 0))


def test_cme_friday_closes_at_1600_chicago_and_saturday_is_closed() -> None:
    assert cme_is_open(ct(2025, 11, 7, 15, 59))
    assert not cme_is_open(ct(2025, 11, 7, 16, 0))
    assert not cme_is_open(ct(2025, 11, 8, 12, 0))
    assert cme_next_close(ct(2025, 11, 7, 9, 0)) == ct(2025, 11, 7, 16, 0)


def test_cme_next_open_from_friday_evening_is_sunday_1700_chicago() -> None:
    assert cme_next_open(ct(2025, 11, 7, 16, 30)) == ct(2025, 11, 9, 17, 0)
    assert cme_next_open(ct(2025, 11, 8, 2, 15)) == ct(2025, 11, 9, 17, 0)


def test_cme_next_close_when_closed_is_close_of_next_session() -> None:
    assert cme_next_close(ct(2025, 11, 8, 12, 0)) == ct(2025, 11, 10, 16, 0)
    assert cme_next_close(ct(2025, 11, 4, 16, 0)) == ct(2025, 11, 5, 16, 0)


def test_cme_session_start_is_previous_1700_chicago_when_open() -> None:
    assert cme_session_start(ct(2025, 11, 4, 9, 0)) == ct(2025, 11, 3, 17, 0)
    assert cme_session_start(ct(2025, 11, 4, 20, 0)) == ct(2025, 11, 4, 17, 0)


def test_cme_session_start_on_monday_is_sunday_1700_chicago() -> None:
    assert cme_session_start(ct(2025, 11, 10, 9, 0)) == ct(2025, 11, 9, 17, 0)


def test_cme_session_start_in_daily_break_is_the_next_session() -> None:
    assert cme_session_start(ct(2025, 11, 4, 16, 30)) == ct(2025, 11, 4, 17, 0)


# --- DST -------------------------------------------------------------------------------------------------


def test_cme_break_in_utc_is_2200_to_2300_in_winter() -> None:
    assert cme_is_open(utc("2025-11-03T21:30"))
    assert not cme_is_open(utc("2025-11-03T22:30"))
    assert cme_is_open(utc("2025-11-03T23:00"))


def test_cme_break_in_utc_is_2100_to_2200_in_summer() -> None:
    assert cme_is_open(utc("2025-07-01T20:59"))
    assert not cme_is_open(utc("2025-07-01T21:30"))
    assert cme_is_open(utc("2025-07-01T22:00"))


def test_cme_sunday_open_on_spring_forward_day_is_2200_utc() -> None:
    # 2025-03-09: clocks go forward at 02:00; the 17:00 CT open is already CDT (UTC-5).
    assert cme_next_open(utc("2025-03-08T12:00")) == utc("2025-03-09T22:00")
    assert not cme_is_open(utc("2025-03-09T21:59"))
    assert cme_is_open(utc("2025-03-09T22:00"))


def test_cme_sunday_open_on_fall_back_day_is_2300_utc() -> None:
    # 2025-11-02: clocks go back at 02:00; the 17:00 CT open is CST (UTC-6).
    assert cme_next_open(utc("2025-11-01T12:00")) == utc("2025-11-02T23:00")
    assert not cme_is_open(utc("2025-11-02T22:30"))
    assert cme_is_open(utc("2025-11-02T23:00"))


def test_cme_friday_close_before_fall_back_is_2100_utc() -> None:
    assert cme_next_close(utc("2025-10-31T12:00")) == utc("2025-10-31T21:00")


# --- holidays and early closes (as pandas-market-calendars models them) ---------------------------------


def test_cme_christmas_2025_is_closed_all_day() -> None:
    assert not cme_is_open(ct(2025, 12, 25, 0, 0))
    assert not cme_is_open(ct(2025, 12, 25, 9, 0))
    assert not cme_is_open(ct(2025, 12, 25, 16, 59))
    assert cme_is_open(ct(2025, 12, 25, 17, 0))


def test_cme_christmas_eve_closes_early_at_1215_chicago() -> None:
    assert cme_is_open(ct(2025, 12, 24, 12, 14))
    assert not cme_is_open(ct(2025, 12, 24, 12, 15))
    assert cme_next_close(ct(2025, 12, 24, 8, 0)) == ct(2025, 12, 24, 12, 15)
    assert cme_next_open(ct(2025, 12, 24, 12, 15)) == ct(2025, 12, 25, 17, 0)


def test_cme_new_years_day_2026_has_no_session_until_1700_chicago() -> None:
    assert not cme_is_open(ct(2025, 12, 31, 17, 30))
    assert cme_next_open(ct(2025, 12, 31, 16, 0)) == ct(2026, 1, 1, 17, 0)
    assert cme_next_close(ct(2026, 1, 1, 17, 0)) == ct(2026, 1, 2, 16, 0)


def test_cme_day_after_thanksgiving_closes_early_at_1215_chicago() -> None:
    # The package keeps Thanksgiving Day 2025 (trade date 11-27) as a full session after 2021.
    assert cme_is_open(ct(2025, 11, 27, 13, 0))
    assert cme_next_close(ct(2025, 11, 28, 8, 0)) == ct(2025, 11, 28, 12, 15)


# --- cme_open_intervals ----------------------------------------------------------------------------------


def test_cme_open_intervals_over_regular_week_sum_to_115_hours() -> None:
    intervals = cme_open_intervals(ct(2025, 11, 2, 12, 0), ct(2025, 11, 9, 12, 0))
    assert len(intervals) == 5
    assert open_hours(intervals) == 5 * 23
    assert intervals[0] == (utc("2025-11-02T23:00"), utc("2025-11-03T22:00"))
    assert all(a.tzinfo is UTC and b.tzinfo is UTC for a, b in intervals)


def test_cme_open_intervals_over_christmas_week_lose_the_holiday_and_early_close() -> None:
    intervals = cme_open_intervals(ct(2025, 12, 21, 12, 0), ct(2025, 12, 28, 12, 0))
    # 12-22, 12-23 and 12-26 are full 23 h sessions; 12-24 runs 17:00 to 12:15 CT; 12-25 has none.
    assert open_hours(intervals) == 3 * 23 + 19.25


def test_cme_open_intervals_are_clipped_to_start_and_end() -> None:
    intervals = cme_open_intervals(ct(2025, 11, 4, 12, 0), ct(2025, 11, 5, 12, 0))
    assert intervals == [
        (ct(2025, 11, 4, 12, 0), ct(2025, 11, 4, 16, 0)),
        (ct(2025, 11, 4, 17, 0), ct(2025, 11, 5, 12, 0)),
    ]


def test_cme_open_intervals_inside_break_or_empty_range_is_empty() -> None:
    assert cme_open_intervals(ct(2025, 11, 4, 16, 10), ct(2025, 11, 4, 16, 50)) == []
    assert cme_open_intervals(ct(2025, 11, 4, 12, 0), ct(2025, 11, 4, 12, 0)) == []


def test_cme_open_intervals_with_end_before_start_is_rejected() -> None:
    with pytest.raises(ValidationError, match="`end`"):
        cme_open_intervals(ct(2025, 11, 5, 12, 0), ct(2025, 11, 4, 12, 0))


# --- spot FX day -----------------------------------------------------------------------------------------


def test_fx_session_start_is_2100_utc_in_summer() -> None:
    assert fx_session_start(utc("2025-07-02T08:00")) == utc("2025-07-01T21:00")
    assert fx_session_start(utc("2025-07-01T21:00")) == utc("2025-07-01T21:00")
    assert fx_session_start(utc("2025-07-01T20:59")) == utc("2025-06-30T21:00")


def test_fx_session_start_is_2200_utc_in_winter() -> None:
    assert fx_session_start(utc("2025-11-04T08:00")) == utc("2025-11-03T22:00")


def test_fx_session_start_across_fall_back_switch() -> None:
    # Saturday 17:00 EDT, then Sunday 2025-11-02 17:00 EST.
    assert fx_session_start(utc("2025-11-02T21:30")) == utc("2025-11-01T21:00")
    assert fx_session_start(utc("2025-11-02T22:00")) == utc("2025-11-02T22:00")


def test_fx_trade_date_rolls_at_1700_new_york() -> None:
    assert fx_trade_date(datetime(2025, 11, 4, 16, 59, tzinfo=NY)) == date(2025, 11, 4)
    assert fx_trade_date(datetime(2025, 11, 4, 17, 0, tzinfo=NY)) == date(2025, 11, 5)
    assert fx_trade_date(datetime(2025, 11, 9, 17, 0, tzinfo=NY)) == date(2025, 11, 10)


def test_fx_day_starts_one_hour_before_cme_day_in_summer_and_winter() -> None:
    for t in (utc("2025-07-02T08:00"), utc("2025-11-04T08:00"), utc("2025-03-11T08:00")):
        assert cme_session_start(t) - fx_session_start(t) == timedelta(hours=1)


def test_fx_is_open_from_sunday_to_friday_1700_new_york_without_break() -> None:
    assert not fx_is_open(datetime(2025, 11, 9, 16, 59, tzinfo=NY))
    assert fx_is_open(datetime(2025, 11, 9, 17, 0, tzinfo=NY))
    assert fx_is_open(datetime(2025, 11, 4, 17, 30, tzinfo=NY))  # no daily break
    assert fx_is_open(datetime(2025, 11, 14, 16, 59, tzinfo=NY))
    assert not fx_is_open(datetime(2025, 11, 14, 17, 0, tzinfo=NY))
    assert not fx_is_open(datetime(2025, 11, 15, 12, 0, tzinfo=NY))


# --- validation ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        cme_is_open,
        cme_next_open,
        cme_next_close,
        cme_session_start,
        fx_session_start,
        fx_trade_date,
        fx_is_open,
    ],
)
def test_naive_datetime_is_rejected_naming_parameter_t(call: Callable[[datetime], object]) -> None:
    with pytest.raises(ValidationError, match="`t` must be timezone-aware") as info:
        call(datetime(2025, 11, 4, 12, 0))
    assert isinstance(info.value, FxhubError)
    assert info.value.field == "t"


def test_cme_open_intervals_with_naive_end_names_end() -> None:
    with pytest.raises(ValidationError, match="`end` must be timezone-aware"):
        cme_open_intervals(ct(2025, 11, 4, 12, 0), datetime(2025, 11, 5, 12, 0))


def test_cme_time_outside_calendar_years_is_rejected() -> None:
    with pytest.raises(ValidationError, match="`t` must fall in the years"):
        cme_is_open(datetime(2300, 1, 1, tzinfo=UTC))


# --- properties ------------------------------------------------------------------------------------------


@settings(deadline=None, max_examples=300)
@given(st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)))
def test_cme_next_open_is_open_and_next_close_is_later(t: datetime) -> None:
    next_open = cme_next_open(t)
    assert next_open >= t
    assert cme_is_open(next_open)
    next_close = cme_next_close(t)
    assert next_close > t
    assert not cme_is_open(next_close)
    assert cme_session_start(t) <= next_open
