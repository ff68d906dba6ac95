"""`fxhub doctor`: the troubleshooting guide as pure checks over what the command gathered.

Each `check_*` takes plain values (a `HubProbe`, `Settings`, `MarketHours`) and returns findings that say
what was seen and what to do; `diagnose` runs them all in the order an operator would look.
"""

from __future__ import annotations

from datetime import timedelta

from fxhub.ops.clock import FIRST_CANDLE_WAIT, STALE_AFTER, MarketHours, span, stamp
from fxhub.ops.feeds import check_collectors, check_coverage, check_metadata
from fxhub.ops.findings import Finding, Severity
from fxhub.ops.probe import HubProbe
from fxhub.settings import ENV_FILES, Settings

__all__ = ["check_hours", "check_hub", "check_settings", "diagnose"]

_DATABENTO_KEY = "DATABENTO_API_KEY"
_IG_REQUIRED = ("IG_API_KEY", "IG_USERNAME", "IG_PASSWORD")
_IG_ALL = (*_IG_REQUIRED, "IG_ACC_TYPE", "IG_ACC_NUMBER")


def diagnose(
    probe: HubProbe,
    settings: Settings | None,
    hours: MarketHours,
    *,
    bars: int,
    settings_error: str | None = None,
    stale_after: timedelta = STALE_AFTER,
) -> list[Finding]:
    """Every finding: hub and token, settings, market hours, collectors, the 50% rule, candle metadata."""
    findings = check_hub(probe) + check_settings(settings, settings_error) + check_hours(hours)
    if probe.readable:
        findings += check_collectors(probe, hours, stale_after)
        findings += check_coverage(probe, bars, hours)
        findings += check_metadata(probe)
    return findings


def check_hub(probe: HubProbe) -> list[Finding]:
    """Is the hub reachable, is its store up, does a read with our token work, were pushes refused."""
    if probe.unreachable is not None:
        return [
            Finding(
                severity=Severity.ERROR,
                title=f"Hub unreachable at {probe.url}",
                detail=probe.unreachable,
                action="Start `fxhub serve`, or point --hub / FXHUB_URL at the running hub.",
            )
        ]
    health = probe.health
    findings = []
    if health is not None and not health.ok:
        findings.append(
            Finding(
                severity=Severity.ERROR,
                title=f"Hub at {probe.url} is up but its store does not answer ({health.status})",
                detail=f"store {health.store}",
                action="Check the store (the SQLite file's disk, or PostgreSQL for FXHUB_STORE) and the "
                "hub's log; collectors keep candles in their outboxes meanwhile.",
            )
        )
    else:
        shown = "" if health is None else f"store {health.store}, {health.candles or 0:,} candles, "
        version = "" if health is None else f"version {health.version}"
        findings.append(
            Finding(severity=Severity.OK, title=f"Hub reachable at {probe.url}", detail=shown + version)
        )
    findings.append(_token(probe))
    return findings + _refused_pushes(probe)


def _token(probe: HubProbe) -> Finding:
    if probe.read_refused:
        return Finding(
            severity=Severity.ERROR,
            title="The hub refused the token",
            detail=probe.read_error or "",
            action="Set FXHUB_TOKEN (or --token) to the hub's token, or FXHUB_TOKEN_FILE to the token file "
            "`fxhub serve` wrote; a collector with the same token cannot push either.",
        )
    if probe.read_error is not None:
        return Finding(
            severity=Severity.ERROR,
            title="A read from the hub failed",
            detail=probe.read_error,
            action="Read the hub's log; retry once its store answers again.",
        )
    return Finding(
        severity=Severity.OK,
        title="Authenticated: a read with the token works",
        detail="A hub started with --allow-anonymous-reads answers reads without checking the token; "
        "pushes always check it (see the refused pushes below, if any).",
    )


def _refused_pushes(probe: HubProbe) -> list[Finding]:
    outcomes = {} if probe.metrics is None else probe.metrics.outcomes
    findings = []
    if outcomes.get("unauthorized", 0):
        findings.append(
            Finding(
                severity=Severity.WARN,
                title=f"{_pushes(outcomes['unauthorized'])} refused for a wrong token since the hub started",
                detail="A collector sends a token that is not this hub's.",
                action="Give that collector the hub's token (FXHUB_TOKEN or the token file); its outbox "
                "keeps the candles and pushes them once the token is right.",
            )
        )
    rejected = sum(outcomes.get(name, 0) for name in ("invalid", "too_large", "rejected"))
    if rejected:
        findings.append(
            Finding(
                severity=Severity.WARN,
                title=f"{_pushes(rejected)} rejected as invalid since the hub started",
                detail="Nothing of a rejected batch was stored.",
                action="The hub's log names the candle and field; fix the pusher that sent them.",
            )
        )
    return findings


def _pushes(count: int) -> str:
    return f"{count:,} push" + ("" if count == 1 else "es")


def check_settings(settings: Settings | None, error: str | None = None) -> list[Finding]:
    """Are DATABENTO_API_KEY and the IG_* variables set; shown masked as `Settings.masked()` does."""
    if settings is None:
        return [
            Finding(
                severity=Severity.ERROR,
                title="The settings cannot be read",
                detail=error or "",
                action="Fix the variable named above in the environment or in " + " / ".join(ENV_FILES) + ".",
            )
        ]
    shown = settings.masked()
    where = f"the environment or {' / '.join(ENV_FILES)} in {settings.config_dir or 'the working directory'}"
    files = ", ".join(settings.source_files) or "no .env file"
    findings = []
    if shown[_DATABENTO_KEY] == "(not set)":
        findings.append(
            Finding(
                severity=Severity.WARN,
                title=f"{_DATABENTO_KEY} not set",
                detail=f"`fxhub collect databento --live` and --historical need it; --file replays do not. "
                f"Read: {files}.",
                action=f"Set {_DATABENTO_KEY} in {where}.",
            )
        )
    else:
        findings.append(
            Finding(
                severity=Severity.OK, title=f"{_DATABENTO_KEY} set ({shown[_DATABENTO_KEY]})", detail=files
            )
        )
    missing = [name for name in _IG_REQUIRED if shown[name] == "(not set)"]
    values = ", ".join(f"{name}={shown[name]}" for name in _IG_ALL)
    if missing:
        findings.append(
            Finding(
                severity=Severity.WARN,
                title=f"IG settings missing: {', '.join(missing)}",
                detail=f"`fxhub collect ig --live` needs {', '.join(_IG_REQUIRED)}; files do not. {values}.",
                action=f"Set {', '.join(missing)} in {where}.",
            )
        )
    else:
        findings.append(Finding(severity=Severity.OK, title="IG settings set", detail=values))
    return findings


def check_hours(hours: MarketHours) -> list[Finding]:
    """Is the CME open now and when does it open next; is spot FX open; is the first minute in progress."""
    now = hours.now
    findings = []
    if hours.cme_open:
        findings.append(
            Finding(
                severity=Severity.OK,
                title="CME FX futures are open",
                detail=f"since {stamp(hours.cme_session_start)}, until {stamp(hours.cme_next_close)} "
                f"(in {span(hours.cme_next_close - now)}).",
            )
        )
    else:
        findings.append(
            Finding(
                severity=Severity.WARN,
                title=f"CME is closed now; it opens {stamp(hours.cme_next_open)} "
                f"(in {span(hours.cme_next_open - now)})",
                detail="Databento sends no CME data while it is closed, so no DATABENTO candle can come.",
                action="Nothing to do: DATABENTO candles resume after the open; IG carries spot meanwhile.",
            )
        )
    if not hours.fx_open:
        findings.append(
            Finding(
                severity=Severity.WARN,
                title="Spot FX is closed (the weekend)",
                detail="IG sends no quotes, so no IG candle can come until Sunday 17:00 New York.",
                action="Nothing to do.",
            )
        )
    if hours.cme_just_opened:
        findings.append(
            Finding(
                severity=Severity.WARN,
                title="The first minute of the CME session is still in progress",
                detail=f"The session opened {stamp(hours.cme_session_start)}; a minute's candle is pushed "
                f"only after the minute closes (this one at {hours.current_minute_closes:%H:%M:%S} UTC).",
                action=f"Wait {span(FIRST_CANDLE_WAIT)} and run `fxhub doctor` again.",
            )
        )
    return findings
