"""`fxhub doctor`'s checks on the candles themselves: who pushed and when, the fetcher's coverage rule,
and whether candles carry consistent source metadata. Pure over a `HubProbe`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Final

from fxhub.fetcher import SelectionPolicy, select_source
from fxhub.model import SOURCE_VOLUME_TYPE, Candle, PriceBasis, Source
from fxhub.ops.clock import FIRST_CANDLE_WAIT, STALE_AFTER, MarketHours, span, stamp
from fxhub.ops.findings import Finding, Severity
from fxhub.ops.probe import HubProbe

__all__ = ["EXPECTED_PRICE_BASIS", "check_collectors", "check_coverage", "check_metadata"]

EXPECTED_PRICE_BASIS: Final = {Source.DATABENTO: PriceBasis.FUTURES, Source.IG: PriceBasis.SPOT}
"""What fxhub's collectors write and what the fetcher assumes whatever a candle says."""

_START: Final = {
    Source.DATABENTO: "`fxhub collect databento --live` (it needs DATABENTO_API_KEY)",
    Source.IG: "`fxhub collect ig --live` (it needs IG_API_KEY, IG_USERNAME, IG_PASSWORD)",
}
_MARKET: Final = {Source.DATABENTO: "CME", Source.IG: "spot FX"}


def check_collectors(
    probe: HubProbe, hours: MarketHours, stale_after: timedelta = STALE_AFTER
) -> list[Finding]:
    """Per source: newest candle per symbol, the last push (hub's clock), stale while its market trades."""
    return [_collector(probe, source, hours, stale_after) for source in (Source.DATABENTO, Source.IG)]


def _collector(probe: HubProbe, source: Source, hours: MarketHours, stale_after: timedelta) -> Finding:
    items = [item for item in probe.inventory if item.source is source]
    pushes = _pushes(probe, source, hours)
    if not items:
        trading = hours.open_since(source)
        waited = trading is not None and hours.now - trading >= FIRST_CANDLE_WAIT
        severity = Severity.ERROR if source is Source.DATABENTO and waited else Severity.WARN
        market = _MARKET[source]
        return Finding(
            severity=severity,
            title=f"No {source.value} candles in the hub: its collector has not pushed",
            detail=f"{pushes}. {market[0].upper()}{market[1:]} is {'open' if trading else 'closed'} now. "
            f"A collector started under "
            f"{span(FIRST_CANDLE_WAIT)} ago pushes its first candle when its minute closes (this minute at "
            f"{hours.current_minute_closes:%H:%M:%S} UTC).",
            action=f"Start {_START[source]} with this hub's URL and token, or read its log and outbox.",
        )
    newest = {item.symbol: item.last for item in items}
    listed = ", ".join(f"{symbol} {stamp(moment)}" for symbol, moment in sorted(newest.items()))
    stale = {
        symbol: late
        for symbol, moment in newest.items()
        if (late := hours.stale_by(source, moment, stale_after)) is not None
    }
    if stale:
        oldest = max(stale.values())
        return Finding(
            severity=Severity.ERROR,
            title=f"The {source.value} collector stopped: candles {span(oldest)} old while "
            f"{_MARKET[source]} is open",
            detail=f"Newest per symbol: {listed}. {pushes}.",
            action=f"Check that {_START[source]} runs, its log and its outbox.",
        )
    latest = max(newest.values())
    return Finding(
        severity=Severity.OK,
        title=f"The {source.value} collector pushed: newest candle {stamp(latest)}",
        detail=f"Newest per symbol: {listed}. {pushes}.",
    )


def _pushes(probe: HubProbe, source: Source, hours: MarketHours) -> str:
    if probe.metrics is None:
        return "The hub's /metrics did not answer, so its last push is unknown"
    last = probe.metrics.last_push.get(source)
    if last is None:
        return f"No {source.value} push since the hub started"
    ago = hours.now - last
    when = f"{span(ago)} ago" if ago >= timedelta(0) else "after the time checked"
    return (
        f"Last {source.value} push {last:%Y-%m-%d %H:%M:%S} UTC ({when}), "
        f"{probe.metrics.candles.get(source, 0):,} candles since the hub started"
    )


def check_coverage(
    probe: HubProbe, bars: int, hours: MarketHours, policy: SelectionPolicy | None = None
) -> list[Finding]:
    """Per pair: does DATABENTO cover enough of the last `bars` minutes for the fetcher to choose it.

    The rule is the fetcher's own (`select_source` under `policy`, the default `auto` policy).
    """
    policy = policy or SelectionPolicy()
    need = policy.required_bars(bars)
    rule = f"the {policy.threshold:.0%} rule (at least {need} of the last {bars} minutes)"
    findings = []
    for pair, by_source in probe.recent.items():
        selection = select_source(by_source, bars, policy)
        if selection.chosen is None:
            continue  # no candles at all: the collector findings say so
        real = selection.coverage[Source.DATABENTO].minutes
        if selection.chosen == "DATABENTO":
            findings.append(
                Finding(
                    severity=Severity.OK,
                    title=f"{pair}: enough DATABENTO candles for {rule}: {real}; strategies get real volume",
                    detail=selection.reason,
                )
            )
            continue
        when = (
            "as the collector runs" if hours.cme_open else f"after the CME open {stamp(hours.cme_next_open)}"
        )
        findings.append(
            Finding(
                severity=Severity.WARN,
                title=f"{pair}: too few DATABENTO candles for {rule}: {real}; strategies get IG tick volume",
                detail=f"{selection.reason}.",
                action=f"DATABENTO coverage builds up {when}; to fill the window now, backfill it with "
                "`fxhub collect databento --historical START END` (costs money).",
            )
        )
    return findings


def check_metadata(probe: HubProbe) -> list[Finding]:
    """Do recent candles say honestly where they came from: source, volume_type, price_basis, instrument."""
    candles = [c for by_source in probe.recent.values() for seq in by_source.values() for c in seq]
    if not candles:
        return []
    problems: list[tuple[Severity, str, Callable[[Candle], bool], str]] = [
        (
            Severity.ERROR,
            "candles whose volume_type disagrees with their source",
            lambda c: c.volume_type is not SOURCE_VOLUME_TYPE[c.source],
            "The hub refuses such candles, so they were written to the store directly: delete them there "
            "and re-collect; consumers would take a tick count for traded contracts.",
        ),
        (
            Severity.ERROR,
            "candles labelled with the other source's price basis",
            lambda c: c.price_basis is not None and c.price_basis is not EXPECTED_PRICE_BASIS[c.source],
            "The fetcher takes DATABENTO prices as futures and IG as spot whatever the label: find the "
            "pusher that labels them otherwise and push them again correctly.",
        ),
        (
            Severity.WARN,
            "candles lacking source metadata (price_basis or instrument)",
            lambda c: c.price_basis is None or c.instrument is None,
            "They came from a pusher that does not fill these extras (an older or custom one); fxhub's "
            "collectors set both: re-collect the minutes, or set them in the custom pusher.",
        ),
        (
            Severity.WARN,
            "minutes a feed gap touched, not backfilled yet (complete=false)",
            lambda c: c.complete is False,
            "The live collectors backfill gaps when the feed returns; for older gaps replay the minutes "
            "(`fxhub collect databento --historical START END`, or IG files).",
        ),
    ]
    findings = []
    for severity, what, test, action in problems:
        hits = Counter(f"{c.symbol} {c.source.value}" for c in candles if test(c))
        if hits:
            listed = ", ".join(f"{key}: {count}" for key, count in sorted(hits.items()))
            findings.append(
                Finding(
                    severity=severity,
                    title=f"{hits.total():,} of {len(candles):,} recent {what}",
                    detail=f"{listed}.",
                    action=action,
                )
            )
    if not findings:
        findings.append(
            Finding(
                severity=Severity.OK,
                title="Candles carry their source metadata",
                detail=f"{len(candles):,} recent candles checked: volume_type matches source, price_basis "
                "and instrument set and consistent, none incomplete.",
            )
        )
    return findings
