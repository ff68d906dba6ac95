"""Trading hours of CME Globex FX futures and of the spot FX day, DST-correct.

Every public function takes a timezone-aware `datetime` (naive input raises `ValidationError` naming the
parameter) and returns UTC. Open periods are half-open: open at the session's first instant, closed at its
close instant (16:00 CT is closed, 17:00 CT is open).

CME hours come from pandas-market-calendars (`CME_Currency`): one session per trade date D, from 17:00 CT on
the previous calendar day (Sunday for Monday) to 16:00 CT on D, or to the package's early close. A full
holiday has no session, so the market stays shut from the previous close to the next session's 17:00 open.
The package models holidays and early closes as follows (checked against version 5.5):

- full holidays: New Year's Day and Christmas;
- 12:15 CT early close on Christmas Eve and the Friday after Thanksgiving;
- 10:15 CT early close on every Good Friday from 2023 on;
- the 12:00 CT halts on MLK, Presidents, Memorial, Independence, Labor and Thanksgiving Day stop after 2021,
  so from 2022 those days show as full sessions.

Spot FX has no exchange: its day starts at 17:00 New York, one hour before the CME day (17:00 Chicago),
and the week runs from Sunday 17:00 to Friday 17:00 New York with no daily break and no holidays here.
"""

from __future__ import annotations

import bisect
import functools
import itertools
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from fxhub.errors import ValidationError

__all__ = [
    "CHICAGO",
    "NEW_YORK",
    "cme_is_open",
    "cme_next_close",
    "cme_next_open",
    "cme_open_intervals",
    "cme_session_start",
    "fx_is_open",
    "fx_session_start",
    "fx_trade_date",
]

CHICAGO: Final = ZoneInfo("America/Chicago")
NEW_YORK: Final = ZoneInfo("America/New_York")

CME_CALENDAR_NAME: Final = "CME_Currency"
FX_DAY_START_NEW_YORK: Final = time(17, 0)

# The calendar's holiday rules are meaningful for these years; pandas timestamps end in 2262.
CME_MIN_YEAR: Final = 1990
CME_MAX_YEAR: Final = 2200

_WHERE: Final = "fxhub.sessions"

Interval = tuple[datetime, datetime]


def _require_aware(name: str, value: object, func: str) -> datetime:
    if not isinstance(value, datetime):
        raise ValidationError(name, value, "must be a timezone-aware datetime", where=f"{_WHERE}.{func}")
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValidationError(
            name,
            value,
            "must be timezone-aware; pass e.g. datetime(..., tzinfo=datetime.UTC)",
            where=f"{_WHERE}.{func}",
        )
    return value.astimezone(UTC)


def _require_cme_range(name: str, value: datetime, func: str) -> None:
    year = value.astimezone(CHICAGO).year
    if not CME_MIN_YEAR <= year <= CME_MAX_YEAR:
        raise ValidationError(
            name,
            value,
            f"must fall in the years {CME_MIN_YEAR}-{CME_MAX_YEAR} the CME calendar covers",
            where=f"{_WHERE}.{func}",
        )


# --------------------------------------------------------------------------------------------- CME Globex


@functools.cache
def _cme_calendar() -> Any:
    """The `CME_Currency` calendar, built once per process (building it parses every holiday rule)."""
    import pandas_market_calendars as mcal

    return mcal.get_calendar(CME_CALENDAR_NAME)


@functools.cache
def _cme_year_sessions(year: int) -> tuple[Interval, ...]:
    """Open periods (UTC) of the trade dates in `year`, in order; computed once per year."""
    schedule = _cme_calendar().schedule(start_date=f"{year}-01-01", end_date=f"{year}-12-31")
    opens = schedule["market_open"].dt.tz_convert("UTC")
    closes = schedule["market_close"].dt.tz_convert("UTC")
    return tuple(
        (o.to_pydatetime().astimezone(UTC), c.to_pydatetime().astimezone(UTC))
        for o, c in zip(opens, closes, strict=True)
    )


def _cme_sessions_from(t: datetime) -> Iterator[Interval]:
    """The sessions whose close is after `t` (UTC), in order; the first is open at `t` or opens next."""
    # A session of trade date D closes on D (Chicago), so no year before t's Chicago year can qualify.
    for year in itertools.count(t.astimezone(CHICAGO).year):
        sessions = _cme_year_sessions(year)
        first = bisect.bisect_right(sessions, t, key=lambda session: session[1])
        yield from sessions[first:]


def _cme_current_or_next(t: datetime) -> Interval:
    return next(_cme_sessions_from(t))


def cme_is_open(t: datetime) -> bool:
    """Whether CME Globex FX futures trade at `t` (weekly hours, the 16:00-17:00 CT break, holidays)."""
    utc = _require_aware("t", t, "cme_is_open")
    _require_cme_range("t", utc, "cme_is_open")
    session_open, _ = _cme_current_or_next(utc)
    return session_open <= utc


def cme_next_open(t: datetime) -> datetime:
    """The first instant at or after `t` at which CME FX is open: `t` itself if open, else the next open."""
    utc = _require_aware("t", t, "cme_next_open")
    _require_cme_range("t", utc, "cme_next_open")
    session_open, _ = _cme_current_or_next(utc)
    return max(session_open, utc)


def cme_next_close(t: datetime) -> datetime:
    """The first instant after `t` at which an open period ends.

    If CME FX is open at `t`, the close of the running session; if closed, the close of the next session.
    """
    utc = _require_aware("t", t, "cme_next_close")
    _require_cme_range("t", utc, "cme_next_close")
    return _cme_current_or_next(utc)[1]


def cme_session_start(t: datetime) -> datetime:
    """Start (17:00 CT) of the CME session containing `t`, the anchor for session VWAP.

    If the market is closed at `t` (daily break, weekend, holiday) this is the start of the next session,
    so that data arriving at its open is anchored to the session it belongs to.
    """
    utc = _require_aware("t", t, "cme_session_start")
    _require_cme_range("t", utc, "cme_session_start")
    return _cme_current_or_next(utc)[0]


def cme_open_intervals(start: datetime, end: datetime) -> list[Interval]:
    """The CME FX open periods clipped to [start, end), in UTC and in order; empty if `start == end`."""
    start_utc = _require_aware("start", start, "cme_open_intervals")
    end_utc = _require_aware("end", end, "cme_open_intervals")
    if end_utc < start_utc:
        rule = f"must not be before `start` ({start.isoformat()})"
        raise ValidationError("end", end, rule, where=f"{_WHERE}.cme_open_intervals")
    _require_cme_range("start", start_utc, "cme_open_intervals")
    _require_cme_range("end", end_utc, "cme_open_intervals")
    intervals: list[Interval] = []
    if start_utc == end_utc:
        return intervals
    for session_open, session_close in _cme_sessions_from(start_utc):
        if session_open >= end_utc:
            break
        intervals.append((max(session_open, start_utc), min(session_close, end_utc)))
    return intervals


# --------------------------------------------------------------------------------------------- spot FX


def _fx_session_start_new_york(t: datetime) -> datetime:
    local = t.astimezone(NEW_YORK)
    day = local.date() if local.time() >= FX_DAY_START_NEW_YORK else local.date() - timedelta(days=1)
    # 17:00 is never inside a DST jump (those happen at 02:00), so the wall time always exists once.
    return datetime.combine(day, FX_DAY_START_NEW_YORK, tzinfo=NEW_YORK)


def fx_session_start(t: datetime) -> datetime:
    """The most recent 17:00 New York at or before `t`: the start of the spot FX day containing `t`.

    Calendar-based: on a weekend it still returns the latest 17:00 (use `fx_is_open` for market hours).
    """
    utc = _require_aware("t", t, "fx_session_start")
    return _fx_session_start_new_york(utc).astimezone(UTC)


def fx_trade_date(t: datetime) -> date:
    """The spot FX trade date of `t`: the day that starts at 17:00 New York on D-1 is trade date D."""
    utc = _require_aware("t", t, "fx_trade_date")
    return _fx_session_start_new_york(utc).date() + timedelta(days=1)


def fx_is_open(t: datetime) -> bool:
    """Whether spot FX trades at `t`: Sunday 17:00 to Friday 17:00 New York, no daily break, no holidays."""
    utc = _require_aware("t", t, "fx_is_open")
    local = utc.astimezone(NEW_YORK)
    weekday = local.weekday()  # Monday is 0, Sunday is 6
    after_start = local.time() >= FX_DAY_START_NEW_YORK
    if weekday == 5:
        return False
    if weekday == 6:
        return after_start
    if weekday == 4:
        return not after_start
    return True
