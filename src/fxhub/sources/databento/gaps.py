"""The gap bookkeeping of a Databento live feed: what a gap is, the counters, and backfill jobs.

`LiveSupervisor` (see its module for the rules) records a `GapRecord` per stretch the live stream lost
and hands each closed gap to its backfiller as a `BackfillJob`; the rebuilt candles come back as a
`BackfillDone`. Plain data and pure helpers: no threads, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final, Literal

from fxhub.core.bars import NS_PER_MINUTE
from fxhub.model import Candle

__all__ = [
    "BACKFILL_WARMUP_NS",
    "BackfillDone",
    "BackfillJob",
    "GapCause",
    "GapRecord",
    "LiveStats",
    "minute_ns",
    "touched",
    "utc_text",
]

BACKFILL_WARMUP_NS: Final = NS_PER_MINUTE  # replayed before the first touched minute, not handed on

GapCause = Literal["reconnect", "restart", "start"]
"""The client reconnected by itself; the supervisor started a new session; the supervisor started
mid-minute (see `fxhub.sources.databento.supervisor`)."""


@dataclass(slots=True)
class GapRecord:
    """A stretch of the feed the live stream lost, and what became of it."""

    start_ns: int
    end_ns: int | None  # None while the feed is still away
    cause: GapCause
    reported: tuple[int, int] | None = None  # (gap_start, gap_end) as the client reported it
    backfilled: bool = False
    candles: int = 0  # rebuilt candles handed on
    error: str | None = None


@dataclass(slots=True)
class LiveStats:
    """Counters for logs and health checks; `LiveSupervisor.stats` returns a copy."""

    records: int = 0  # data records fed to the bars
    heartbeats: int = 0
    candles: int = 0  # handed to the output handler, re-marked and rebuilt ones included
    sessions: int = 0  # sessions started by the supervisor
    restarts: int = 0  # of them, after a session ended
    reconnects: int = 0  # reconnects the client made by itself
    gaps: list[GapRecord] = field(default_factory=list)
    last_record_ns: int | None = None  # ts_event of the newest data record
    remarked: int = 0  # candles re-emitted complete=False because a gap turned up after them
    superseded: int = 0  # live candles dropped because a backfill already replaced their minute
    handler_errors: int = 0


@dataclass(frozen=True, slots=True)
class BackfillJob:
    """A closed gap to rebuild, with the instrument ids' raw symbols as the live session knew them."""

    gap: GapRecord
    raw_symbols: dict[int, str]


@dataclass(frozen=True, slots=True)
class BackfillDone:
    """A job's rebuilt candles, or why there are none."""

    job: BackfillJob
    candles: list[Candle]
    error: str | None


def minute_ns(candle: Candle) -> int:
    """The candle's minute start in ns since the epoch."""
    return int(candle.timestamp.timestamp()) * 1_000_000_000


def touched(gap: GapRecord) -> tuple[int, int]:
    """[first, last + 1) minute starts a closed gap touches, as `DatabentoBars.touches_gap` counts."""
    assert gap.end_ns is not None
    return (
        gap.start_ns // NS_PER_MINUTE * NS_PER_MINUTE,
        gap.end_ns // NS_PER_MINUTE * NS_PER_MINUTE + NS_PER_MINUTE,
    )


def utc_text(ns: int) -> str:
    """ns since the epoch as ISO 8601 UTC with milliseconds, for log lines."""
    return datetime.fromtimestamp(ns / 1e9, UTC).isoformat(timespec="milliseconds")
