"""Which source serves a window of minutes, and why: pure, no I/O.

**The window.** `bars` means the last `bars` minute slots ending at the *anchor*: the newest candle's
minute among the sources the policy reads (both for ``auto`` and ``hybrid``, and for any policy that
adjusts for the basis; one source for ``databento`` or ``ig``). The window is the closed range
``[anchor − (bars − 1) min, anchor]``: exactly `bars` minute starts. Anchoring on data rather than the
wall clock makes a replay or a closed market answer the same as a live one, and a source that stopped
shows up as low coverage instead of being silently served stale.

**Coverage.** For each source: the number of distinct minute starts it has inside the window, over
`bars`. A minute counts if the source has a candle for it, whatever its volume (a CME minute with zero
trades is still data); missing minutes (gaps, closed sessions, a feed that stopped) do not count. The
``auto`` threshold is met when the count is at least ``ceil(threshold × bars)``, so with the default 0.5
and 60 bars, 30 DATABENTO minutes choose DATABENTO and 29 do not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Literal

from fxhub.fetcher.policy import SelectionPolicy
from fxhub.model import CANDLE_INTERVAL, Candle, Source

__all__ = ["Chosen", "Selection", "SourceCoverage", "select_source", "sources_read"]

Chosen = Literal["DATABENTO", "IG", "HYBRID"]
_BOTH: Final = (Source.DATABENTO, Source.IG)


@dataclass(frozen=True, slots=True)
class SourceCoverage:
    """What one source has inside the window."""

    minutes: int  # distinct minute starts in the window
    bars: int  # the window's length in minutes
    newest: datetime | None  # the source's newest candle (inside the window or not)

    @property
    def share(self) -> float:
        return self.minutes / self.bars if self.bars else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "minutes": self.minutes,
            "bars": self.bars,
            "share": round(self.share, 4),
            "newest": self.newest,
        }


@dataclass(frozen=True, slots=True)
class Selection:
    """The choice for one window: which source, over which minutes, and the reason in words."""

    policy: SelectionPolicy
    bars: int
    chosen: Chosen | None  # None: no source the policy reads has a candle
    window_start: datetime | None
    window_end: datetime | None  # the anchor (a minute start, inclusive)
    coverage: Mapping[Source, SourceCoverage]
    reason: str
    hybrid_real_minutes: int = 0  # hybrid: IG minutes of the window that have CME volume

    @property
    def real_volume(self) -> bool:
        """Whether indicators may weight by real volume (VWAP) rather than equally (TWAP)."""
        if self.chosen == "HYBRID":
            ig = self.coverage[Source.IG].minutes
            return self.hybrid_real_minutes >= self.policy.required_bars(ig)
        return self.chosen == "DATABENTO"

    @property
    def price_source(self) -> Source | None:
        """Whose prices the window holds."""
        if self.chosen is None:
            return None
        return Source.DATABENTO if self.chosen == "DATABENTO" else Source.IG

    def in_window(self, timestamp: datetime) -> bool:
        return self.window_start is not None and self.window_start <= timestamp <= self.window_end  # type: ignore[operator]

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy.policy,
            "chosen": self.chosen,
            "threshold": self.policy.threshold,
            "bars": self.bars,
            "window_start": self.window_start,
            "window_end": self.window_end,
            "coverage": {source.value: cov.to_dict() for source, cov in self.coverage.items()},
            "reason": self.reason,
        }


def sources_read(policy: SelectionPolicy) -> tuple[Source, ...]:
    """The sources a policy needs to see (and so the ones that anchor its window)."""
    if policy.policy == "databento" and not policy.basis_adjust:
        return (Source.DATABENTO,)
    if policy.policy == "ig":
        return (Source.IG,)
    return _BOTH


def select_source(
    candles: Mapping[Source, Sequence[Candle]], bars: int, policy: SelectionPolicy
) -> Selection:
    """Choose the source for the last `bars` minutes of `candles` (per source, oldest first)."""
    if isinstance(bars, bool) or not isinstance(bars, int) or bars < 1:
        raise ValueError(f"`bars` must be a whole number ≥ 1, was {bars!r}")
    read = sources_read(policy)
    newest = {s: (candles[s][-1].timestamp if candles.get(s) else None) for s in read}
    stamps = [t for t in newest.values() if t is not None]
    if not stamps:
        names = " or ".join(s.value for s in read)
        coverage = {s: SourceCoverage(0, bars, None) for s in read}
        return Selection(policy, bars, None, None, None, coverage, f"no {names} candles for this pair")
    end = max(stamps)
    start = end - (bars - 1) * CANDLE_INTERVAL
    minutes = {s: _minutes_in(candles.get(s, ()), start, end) for s in read}
    coverage = {s: SourceCoverage(len(minutes[s]), bars, newest[s]) for s in read}
    chosen, reason = _choose(policy, bars, coverage, end)
    real = len(minutes[Source.IG] & minutes[Source.DATABENTO]) if chosen == "HYBRID" else 0
    if chosen == "HYBRID":
        ig_minutes = coverage[Source.IG].minutes
        reason += f"; CME volume on {real}/{ig_minutes} of IG's minutes"
        if real < policy.required_bars(ig_minutes):  # mirrors Selection.real_volume
            reason += f", below the {policy.threshold:.0%} threshold, so volume stays tick (twap)"
    return Selection(policy, bars, chosen, start, end, coverage, reason, real)


def _minutes_in(candles: Sequence[Candle], start: datetime, end: datetime) -> set[datetime]:
    out: set[datetime] = set()
    for candle in reversed(candles):  # oldest first: walk back from the newest and stop early
        if candle.timestamp < start:
            break
        if candle.timestamp <= end:
            out.add(candle.timestamp)
    return out


def _describe(source: Source, cov: SourceCoverage, end: datetime) -> str:
    text = f"{source.value} covers {cov.minutes}/{cov.bars} minutes ({cov.share:.0%})"
    if cov.newest is not None and cov.newest < end:
        lag = (end - cov.newest) // timedelta(minutes=1)
        text += f", its newest candle {lag} min before the window end"
    elif cov.newest is None:
        text = f"{source.value} has no candles"
    return text


def _choose(
    policy: SelectionPolicy, bars: int, coverage: Mapping[Source, SourceCoverage], end: datetime
) -> tuple[Chosen | None, str]:
    db, ig = coverage.get(Source.DATABENTO), coverage.get(Source.IG)
    need = policy.required_bars(bars)
    if policy.policy == "ig":
        assert ig is not None
        return (
            ("IG", f"policy ig: {_describe(Source.IG, ig, end)}") if ig.minutes else (None, "no IG candles")
        )
    assert db is not None
    if policy.policy == "databento":
        if db.minutes:
            return "DATABENTO", f"policy databento: {_describe(Source.DATABENTO, db, end)}"
        return None, f"policy databento: {_describe(Source.DATABENTO, db, end)} in the window"
    assert ig is not None
    if policy.policy == "hybrid":
        if ig.minutes:
            return "HYBRID", f"policy hybrid: IG spot prices, {_describe(Source.IG, ig, end)}"
        if db.minutes:
            return "DATABENTO", (
                f"policy hybrid, but IG has no minutes in the window for spot prices; "
                f"falling back to {_describe(Source.DATABENTO, db, end)}"
            )
        return None, "neither source has candles in the window"
    rule = f"the {policy.threshold:.0%} threshold ({need}/{bars})"
    if db.minutes >= need:
        return "DATABENTO", f"{_describe(Source.DATABENTO, db, end)}, at or above {rule}"
    if ig.minutes:
        return "IG", (
            f"{_describe(Source.DATABENTO, db, end)}, below {rule}; "
            f"falling back to {_describe(Source.IG, ig, end)}"
        )
    if db.minutes:
        return "DATABENTO", (
            f"{_describe(Source.DATABENTO, db, end)}, below {rule}, but IG has no minutes in the window"
        )
    return None, "neither source has candles in the window"  # pragma: no cover - anchor implies one
