"""Operator checks: `fxhub check` (per pair, is real volume flowing) and `fxhub doctor` (why not).

The checks are pure functions over what the commands gather from the hub, the settings and a clock, and
return `Finding`s (ok, warn, error) that each say what was seen and what to do.
"""

from fxhub.ops.check import (
    HAS_REAL_VOLUME,
    NO_DATA,
    WAITING,
    CheckReport,
    PairReport,
    PairSnapshot,
    check_pair,
    check_pipeline,
    gather_snapshots,
    hub_failure,
)
from fxhub.ops.clock import FIRST_CANDLE_WAIT, STALE_AFTER, MarketHours
from fxhub.ops.doctor import check_hours, check_hub, check_settings, diagnose
from fxhub.ops.feeds import check_collectors, check_coverage, check_metadata
from fxhub.ops.findings import Finding, Severity, healthy, worst
from fxhub.ops.probe import HubProbe, PushMetrics, parse_push_metrics, probe_hub

__all__ = [
    "FIRST_CANDLE_WAIT",
    "HAS_REAL_VOLUME",
    "NO_DATA",
    "STALE_AFTER",
    "WAITING",
    "CheckReport",
    "Finding",
    "HubProbe",
    "MarketHours",
    "PairReport",
    "PairSnapshot",
    "PushMetrics",
    "Severity",
    "check_collectors",
    "check_coverage",
    "check_hours",
    "check_hub",
    "check_metadata",
    "check_pair",
    "check_pipeline",
    "check_settings",
    "diagnose",
    "gather_snapshots",
    "healthy",
    "hub_failure",
    "parse_push_metrics",
    "probe_hub",
    "worst",
]
