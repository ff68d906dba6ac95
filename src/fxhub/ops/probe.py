"""What `fxhub doctor` reads from a hub, gathered once: health, a read with the token, recent candles,
and the push metrics. Every failure is recorded rather than raised, so the diagnosis can say what it means.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

import httpx
from prometheus_client.parser import text_string_to_metric_families

from fxhub.hub.client import Health, HubClient, HubError, HubUnauthorized, HubUnreachable, InventoryItem
from fxhub.model import Candle, Source

__all__ = ["METRICS_TIMEOUT_SECONDS", "HubProbe", "PushMetrics", "parse_push_metrics", "probe_hub"]

METRICS_TIMEOUT_SECONDS: Final = 5.0
_LAST_PUSH: Final = "fxhub_last_push_timestamp_seconds"
_PUSHED: Final = "fxhub_candles_pushed_total"
_PUSH_REQUESTS: Final = "fxhub_push_requests_total"
_SOURCES: Final = frozenset(source.value for source in Source)


@dataclass(frozen=True, slots=True, kw_only=True)
class PushMetrics:
    """From /metrics, since the hub started: pushes by outcome, candles and last push by source."""

    outcomes: Mapping[str, int] = field(default_factory=dict)
    candles: Mapping[Source, int] = field(default_factory=dict)
    last_push: Mapping[Source, datetime] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class HubProbe:
    """The hub as `fxhub doctor` found it. `unreachable`/`read_error` hold the client's error message.

    `recent[pair][source]` holds that source's newest candles (oldest first), as the fetcher reads them.
    """

    url: str
    health: Health | None = None
    unreachable: str | None = None
    read_refused: bool = False
    read_error: str | None = None
    inventory: tuple[InventoryItem, ...] = ()
    recent: Mapping[str, Mapping[Source, Sequence[Candle]]] = field(default_factory=dict)
    metrics: PushMetrics | None = None  # None: /metrics did not answer or is not the hub's

    @property
    def readable(self) -> bool:
        """The hub answered and a read with the token worked."""
        return self.unreachable is None and not self.read_refused and self.read_error is None


def probe_hub(client: HubClient, pairs: Sequence[str], bars: int) -> HubProbe:
    """Ask the hub at `client.url` everything the diagnosis needs; the newest `bars` candles per source."""
    try:
        health = client.health()
    except HubUnreachable as error:
        return HubProbe(url=client.url, unreachable=str(error))
    except HubError as error:  # something answered, but not like a hub
        return HubProbe(url=client.url, unreachable=str(error))
    metrics = _read_metrics(client.url)
    try:
        inventory = tuple(client.inventory())
        held = {(item.symbol, item.source) for item in inventory}
        recent = {
            pair: {
                source: client.get_latest_candles(pair, limit=bars, source=source)
                for source in Source
                if (pair, source) in held
            }
            for pair in pairs
        }
    except HubUnauthorized as error:
        return HubProbe(
            url=client.url, health=health, read_refused=True, read_error=str(error), metrics=metrics
        )
    except HubError as error:
        return HubProbe(url=client.url, health=health, read_error=str(error), metrics=metrics)
    return HubProbe(url=client.url, health=health, inventory=inventory, recent=recent, metrics=metrics)


def _read_metrics(url: str) -> PushMetrics | None:
    try:
        response = httpx.get(f"{url}/metrics", timeout=METRICS_TIMEOUT_SECONDS)
        response.raise_for_status()
        return parse_push_metrics(response.text)
    except (httpx.HTTPError, ValueError):
        return None


def parse_push_metrics(text: str) -> PushMetrics:
    """The push figures in a /metrics answer (Prometheus text); `ValueError` if it is not that format."""
    outcomes: dict[str, int] = {}
    candles: dict[Source, int] = {}
    last_push: dict[Source, datetime] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            source = sample.labels.get("source", "")
            known = source in _SOURCES
            if sample.name == _PUSH_REQUESTS and "outcome" in sample.labels:
                outcomes[sample.labels["outcome"]] = int(sample.value)
            elif sample.name == _PUSHED and known:
                candles[Source(source)] = candles.get(Source(source), 0) + int(sample.value)
            elif sample.name == _LAST_PUSH and known:
                last_push[Source(source)] = datetime.fromtimestamp(sample.value, UTC)
    return PushMetrics(outcomes=outcomes, candles=candles, last_push=last_push)
