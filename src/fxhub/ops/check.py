"""`fxhub check`'s verdicts: per pair, what the hub holds by source and whether real volume flows.

`gather_snapshots` reads the hub; everything else is pure over a `PairSnapshot` and `MarketHours`, so a
test builds both and gets the verdict a live hub would get.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from fxhub.hub.client import HubClient, HubError, HubUnauthorized, HubUnreachable
from fxhub.model import Candle, Source
from fxhub.ops.clock import FIRST_CANDLE_WAIT, STALE_AFTER, MarketHours, lag, span, stamp
from fxhub.ops.findings import Finding, Severity, healthy, worst

__all__ = [
    "HAS_REAL_VOLUME",
    "NO_DATA",
    "WAITING",
    "CheckReport",
    "PairReport",
    "PairSnapshot",
    "check_pair",
    "check_pipeline",
    "gather_snapshots",
    "hub_failure",
]

HAS_REAL_VOLUME = "✅ Has real trade volume!"
WAITING = "⚠️ WAITING: No DataBento candles yet."
NO_DATA = "❌ NO DATA: no candles at all."
_DOCTOR = "`fxhub doctor` says more"


@dataclass(frozen=True, slots=True, kw_only=True)
class PairSnapshot:
    """What the hub holds for one pair: candles and newest minute per source, the latest DATABENTO one."""

    pair: str
    counts: Mapping[Source, int] = field(default_factory=dict)
    newest: Mapping[Source, datetime] = field(default_factory=dict)
    latest_databento: Candle | None = None

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def count(self, source: Source) -> int:
        return self.counts.get(source, 0)


@dataclass(frozen=True, slots=True, kw_only=True)
class PairReport:
    """The verdict on one pair (about real volume) and every finding, the verdict first."""

    snapshot: PairSnapshot
    findings: tuple[Finding, ...]

    @property
    def verdict(self) -> Finding:
        return self.findings[0]

    @property
    def severity(self) -> Severity:
        return worst(self.findings)

    def to_dict(self) -> dict[str, Any]:
        snap = self.snapshot
        latest = snap.latest_databento
        return {
            "pair": snap.pair,
            "total": snap.total,
            "databento": snap.count(Source.DATABENTO),
            "ig": snap.count(Source.IG),
            "newest": {source.value: _iso(moment) for source, moment in sorted(snap.newest.items())},
            "latest_databento": None if latest is None else latest.to_dict(),
            "severity": self.severity.value,
            "verdict": self.verdict.title,
            "findings": [finding.to_dict() for finding in self.findings],
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckReport:
    """The whole check: every pair's report, or the one finding that stopped it (hub unreachable)."""

    hub_url: str
    hours: MarketHours
    pairs: tuple[PairReport, ...] = ()
    failure: Finding | None = None

    @property
    def ok(self) -> bool:
        """The pipeline is healthy: the hub answered and no pair has an error (warnings allowed)."""
        return self.failure is None and healthy(f for pair in self.pairs for f in pair.findings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "hub": self.hub_url,
            "now": _iso(self.hours.now),
            "cme_open": self.hours.cme_open,
            "fx_open": self.hours.fx_open,
            "error": None if self.failure is None else self.failure.to_dict(),
            "pairs": [pair.to_dict() for pair in self.pairs],
        }


def gather_snapshots(client: HubClient, pairs: Sequence[str]) -> list[PairSnapshot]:
    """Read what the hub holds for `pairs`: one inventory, one latest DATABENTO candle per pair."""
    items = client.inventory()
    snapshots = []
    for pair in pairs:
        mine = [item for item in items if item.symbol == pair]
        latest = client.get_latest_candles(pair, limit=1, source=Source.DATABENTO) if mine else []
        snapshots.append(
            PairSnapshot(
                pair=pair,
                counts={item.source: item.count for item in mine},
                newest={item.source: item.last for item in mine},
                latest_databento=latest[-1] if latest else None,
            )
        )
    return snapshots


def hub_failure(url: str, error: HubError) -> Finding:
    """The finding that stops a check when the hub cannot be read at all."""
    if isinstance(error, HubUnreachable):
        title = f"❌ Hub unreachable at {url}"
        action = "Start `fxhub serve`, or point --hub / FXHUB_URL at it."
    elif isinstance(error, HubUnauthorized):
        title = f"❌ The hub at {url} refused the token"
        action = "Set FXHUB_TOKEN (or --token) to the hub's token, or FXHUB_TOKEN_FILE to its token file."
    else:
        title = f"❌ The hub at {url} failed"
        action = "Read the hub's log; check again once it answers."
    return Finding(severity=Severity.ERROR, title=title, detail=str(error), action=f"{action} {_DOCTOR}.")


def check_pipeline(
    snapshots: Iterable[PairSnapshot], hours: MarketHours, stale_after: timedelta = STALE_AFTER
) -> tuple[PairReport, ...]:
    """Every pair's report at the same `hours`."""
    return tuple(check_pair(snapshot, hours, stale_after) for snapshot in snapshots)


def check_pair(
    snapshot: PairSnapshot, hours: MarketHours, stale_after: timedelta = STALE_AFTER
) -> PairReport:
    """The verdict on `snapshot` at `hours`: real volume flowing, waiting for it, stale, or no data."""
    if snapshot.total == 0:
        return PairReport(snapshot=snapshot, findings=(_no_data(snapshot.pair),))
    newest_real = snapshot.newest.get(Source.DATABENTO)
    verdict = (
        _waiting(snapshot, hours)
        if newest_real is None or snapshot.count(Source.DATABENTO) == 0
        else _real_volume(newest_real, hours, stale_after)
    )
    spot = _spot(snapshot, hours, stale_after)
    return PairReport(snapshot=snapshot, findings=(verdict,) if spot is None else (verdict, spot))


def _no_data(pair: str) -> Finding:
    return Finding(
        severity=Severity.ERROR,
        title=NO_DATA,
        detail=f"The hub holds no {pair} candle from either source.",
        action="Start the collectors (`fxhub collect databento --live`, `fxhub collect ig --live`, or "
        f"--file replays) pointed at this hub; {_DOCTOR}.",
    )


def _waiting(snapshot: PairSnapshot, hours: MarketHours) -> Finding:
    only_ig = f"only IG (tick volume) data so far: {snapshot.count(Source.IG):,} candles"
    if not hours.cme_open:
        return Finding(
            severity=Severity.WARN,
            title=WAITING,
            detail=f"CME is closed now; it opens {stamp(hours.cme_next_open)} "
            f"(in {span(hours.cme_next_open - hours.now)}); {only_ig}.",
            action="Nothing to do while CME is closed if `fxhub collect databento --live` runs: "
            "DataBento candles come after the open.",
        )
    if hours.cme_just_opened:
        return Finding(
            severity=Severity.WARN,
            title=WAITING,
            detail=f"CME opened at {stamp(hours.cme_session_start)}: the session's first minute candle "
            f"appears when that minute closes; {only_ig}.",
            action=f"Wait {span(FIRST_CANDLE_WAIT)} and check again.",
        )
    return Finding(
        severity=Severity.ERROR,
        title=WAITING,
        detail=f"CME is open (since {stamp(hours.cme_session_start)}) but the Databento collector is not "
        f"pushing: {only_ig}.",
        action="Start `fxhub collect databento --live` (it needs DATABENTO_API_KEY), or read its log and "
        f"outbox; a collector started under {span(FIRST_CANDLE_WAIT)} ago pushes once its first minute "
        f"closes. {_DOCTOR}.",
    )


def _real_volume(newest: datetime, hours: MarketHours, stale_after: timedelta) -> Finding:
    seen = f"newest DATABENTO candle {stamp(newest)}"
    if hours.cme_open:
        late = hours.stale_by(Source.DATABENTO, newest, stale_after)
        if late is not None:
            return Finding(
                severity=Severity.ERROR,
                title=f"❌ STALE: DataBento candles stopped {span(late)} ago.",
                detail=f"CME is open (since {stamp(hours.cme_session_start)}), but the newest DATABENTO "
                f"candle is from {stamp(newest)}; strategies fall back to IG once DATABENTO no longer covers "
                "their window.",
                action="The Databento collector stopped pushing: check that `fxhub collect databento --live` "
                "runs, its log (disconnected? key refused?) and its outbox. For a hub of replayed data, "
                f"check as of its time with --now. {_DOCTOR}.",
            )
        return Finding(
            severity=Severity.OK,
            title=HAS_REAL_VOLUME,
            detail=f"{seen}; CME open until {stamp(hours.cme_next_close)}.",
        )
    closed = f"CME is closed now (opens {stamp(hours.cme_next_open)})"
    last_close = hours.cme_last_close
    if last_close is not None and lag(newest, last_close) > stale_after:
        return Finding(
            severity=Severity.WARN,
            title="⚠️ Has real trade volume, but DataBento stopped before the last CME close.",
            detail=f"{closed}; the last session closed {stamp(last_close)}, "
            f"{span(lag(newest, last_close))} after the {seen} closed.",
            action=f"Make sure `fxhub collect databento --live` runs before the open. {_DOCTOR}.",
        )
    return Finding(severity=Severity.OK, title=HAS_REAL_VOLUME, detail=f"{closed}; {seen}.")


def _spot(snapshot: PairSnapshot, hours: MarketHours, stale_after: timedelta) -> Finding | None:
    """A finding about IG, the spot fallback, when something is wrong with it; None when it is fine."""
    newest = snapshot.newest.get(Source.IG)
    if newest is None or snapshot.count(Source.IG) == 0:
        return Finding(
            severity=Severity.WARN,
            title="⚠️ No IG candles: strategies have no spot fallback.",
            detail=f"The hub holds {snapshot.count(Source.DATABENTO):,} DATABENTO candles and no IG candle "
            f"of {snapshot.pair}.",
            action="Start `fxhub collect ig --live` (it needs the IG_* settings) or replay IG files.",
        )
    late = hours.stale_by(Source.IG, newest, stale_after)
    if late is not None:
        return Finding(
            severity=Severity.ERROR,
            title=f"❌ STALE: IG candles stopped {span(late)} ago.",
            detail=f"Spot FX is open but the newest IG candle is {stamp(newest)}.",
            action="The IG collector stopped pushing: check that `fxhub collect ig --live` runs, its log "
            f"(session expired? login refused?) and its outbox. {_DOCTOR}.",
        )
    return None


def _iso(moment: datetime) -> str:
    return f"{moment:%Y-%m-%dT%H:%M:%SZ}"
