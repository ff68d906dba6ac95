"""The market hours and freshness rules `fxhub check` and `fxhub doctor` share: pure, clock passed in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from fxhub.model import CANDLE_INTERVAL, Source
from fxhub.sessions import (
    cme_is_open,
    cme_next_close,
    cme_open_intervals,
    cme_session_start,
    fx_is_open,
    fx_session_start,
)

__all__ = ["FIRST_CANDLE_WAIT", "LOOKBACK", "STALE_AFTER", "MarketHours", "lag", "span", "stamp"]

STALE_AFTER: Final = timedelta(minutes=5)
"""How long after a minute closes a source may go without a newer candle before it counts as stale."""
FIRST_CANDLE_WAIT: Final = timedelta(minutes=2)
"""A minute's candle is pushed only after the minute closes: this long after a start, none may exist yet."""
LOOKBACK: Final = timedelta(days=7)
"""How far back the last CME close is looked for (the longest closure is a weekend plus a holiday)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MarketHours:
    """Which markets trade at `now` and when that changes, all UTC."""

    now: datetime
    cme_open: bool
    cme_session_start: datetime  # open: the running session's start; closed: the next session's
    cme_next_close: datetime  # open: the running session's close; closed: the next session's
    cme_last_close: datetime | None  # closed: when the last session ended (None if not in LOOKBACK)
    fx_open: bool
    fx_session_start: datetime  # the latest 17:00 New York at or before `now`

    @classmethod
    def at(cls, now: datetime) -> MarketHours:
        """The hours at `now` (timezone-aware) from `fxhub.sessions`."""
        now = now.astimezone(UTC)
        is_open = cme_is_open(now)
        last_close = None
        if not is_open:
            intervals = cme_open_intervals(now - LOOKBACK, now)
            last_close = intervals[-1][1] if intervals else None
        return cls(
            now=now,
            cme_open=is_open,
            cme_session_start=cme_session_start(now),
            cme_next_close=cme_next_close(now),
            cme_last_close=last_close,
            fx_open=fx_is_open(now),
            fx_session_start=fx_session_start(now),
        )

    @property
    def cme_next_open(self) -> datetime:
        """`now` when open, else the next session's start."""
        return self.now if self.cme_open else self.cme_session_start

    @property
    def cme_just_opened(self) -> bool:
        """Whether the CME session opened so recently that its first candle may not exist yet."""
        return self.cme_open and self.now - self.cme_session_start < FIRST_CANDLE_WAIT

    def open_since(self, source: Source) -> datetime | None:
        """Since when the market `source` feeds trades (CME for DATABENTO, spot FX for IG); None if shut."""
        if source is Source.DATABENTO:
            return self.cme_session_start if self.cme_open else None
        return self.fx_session_start if self.fx_open else None

    def stale_by(
        self, source: Source, newest: datetime, stale_after: timedelta = STALE_AFTER
    ) -> timedelta | None:
        """How long the minute `newest` closed before now if `source` counts as stale, else None.

        Stale means: its market is open, has been for longer than `stale_after` (so the session's
        first candles had time to come), and `newest` closed more than `stale_after` ago.
        """
        since = self.open_since(source)
        if since is None or self.now - since <= stale_after:
            return None
        late = lag(newest, self.now)
        return late if late > stale_after else None

    @property
    def current_minute_closes(self) -> datetime:
        """When the minute in progress at `now` closes (its candle can be pushed only then)."""
        return self.now.replace(second=0, microsecond=0) + CANDLE_INTERVAL


def lag(newest: datetime, until: datetime) -> timedelta:
    """How long before `until` the minute labelled `newest` closed; negative when it closes later."""
    return until - (newest + CANDLE_INTERVAL)


def stamp(moment: datetime) -> str:
    """`2025-11-04 13:39 UTC`."""
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def span(delta: timedelta) -> str:
    """A duration for people: `45 s`, `12 min`, `3 h 05 min`, `2 d 4 h`."""
    seconds = int(abs(delta).total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"
