"""The hub's Prometheus metrics, on a registry of its own per app (two apps in one process never clash)."""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from fxhub.hub.store.base import UpsertResult
from fxhub.model import Candle

__all__ = ["READ_ENDPOINTS", "HubMetrics", "push_outcome", "source_counts"]

#: Route names whose requests count as reads.
READ_ENDPOINTS: Final = frozenset({"latest", "range", "inventory", "stream"})
_LATENCY_BUCKETS_SECONDS: Final = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)


def push_outcome(status_code: int) -> str:
    """The `outcome` label of a push answered with `status_code`."""
    if 200 <= status_code < 300:
        return "ok"
    return {401: "unauthorized", 413: "too_large", 422: "invalid"}.get(
        status_code, "error" if status_code >= 500 else "rejected"
    )


@dataclass(frozen=True, slots=True)
class HubMetrics:
    """Counters, gauges and histograms the hub exports at /metrics."""

    registry: CollectorRegistry
    push_requests: Counter
    candles_pushed: Counter
    read_requests: Counter
    request_seconds: Histogram
    stream_subscribers: Gauge
    stream_dropped: Counter
    last_push_seconds: Gauge

    @classmethod
    def create(cls, registry: CollectorRegistry) -> HubMetrics:
        """Register the hub's metrics on `registry`."""
        return cls(
            registry=registry,
            push_requests=Counter(
                "fxhub_push_requests",
                "Push requests by outcome (ok, invalid, too_large, unauthorized, rejected, error).",
                ["outcome"],
                registry=registry,
            ),
            candles_pushed=Counter(
                "fxhub_candles_pushed",
                "Candles in accepted pushes by source and result (inserted, replaced, unchanged).",
                ["source", "result"],
                registry=registry,
            ),
            read_requests=Counter(
                "fxhub_read_requests",
                "Read requests by endpoint (latest, range, inventory, stream).",
                ["endpoint"],
                registry=registry,
            ),
            request_seconds=Histogram(
                "fxhub_request_seconds",
                "Time to answer an HTTP request, by endpoint (route name).",
                ["endpoint"],
                buckets=_LATENCY_BUCKETS_SECONDS,
                registry=registry,
            ),
            stream_subscribers=Gauge(
                "fxhub_stream_subscribers", "WebSocket readers connected now.", registry=registry
            ),
            stream_dropped=Counter(
                "fxhub_stream_dropped",
                "Stream messages dropped because a reader fell behind.",
                registry=registry,
            ),
            last_push_seconds=Gauge(
                "fxhub_last_push_timestamp_seconds",
                "Unix time of the last accepted push that carried candles of this source.",
                ["source"],
                registry=registry,
            ),
        )

    def count_push(self, candles: Sequence[Candle], result: UpsertResult) -> Tally[str]:
        """Add an accepted batch to `fxhub_candles_pushed_total` by source; stamp each source's last push.

        Returns the batch's candles per source (for the caller's log line, so it need not count again).

        `fxhub_last_push_timestamp_seconds` is how `fxhub doctor` tells which collectors push now,
        whatever minutes their candles are for (a replay pushes old minutes).
        """
        replaced = Tally(key[1] for key in result.replaced_keys)
        changed = source_counts(result.changed)
        sent = source_counts(candles)
        for source in sent:
            self.last_push_seconds.labels(source).set_to_current_time()
        for source in sent.keys() | changed.keys() | replaced.keys():
            inserted = max(changed[source] - replaced[source], 0)
            self.candles_pushed.labels(source, "inserted").inc(inserted)
            self.candles_pushed.labels(source, "replaced").inc(replaced[source])
            self.candles_pushed.labels(source, "unchanged").inc(
                max(sent[source] - inserted - replaced[source], 0)
            )
        return sent


def source_counts(candles: Iterable[Candle]) -> Tally[str]:
    """How many of `candles` each source ('IG', 'DATABENTO') has."""
    # `_value_` is the enum member's plain attribute; `.value` (a property) and hashing the members
    # (Enum.__hash__ is Python code) would cost a call each, per candle of every push.
    return Tally(candle.source._value_ for candle in candles)
