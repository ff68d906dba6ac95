"""The hub's client side: read, write and stream candles, and push through a durable outbox.

`connect_to_data_hub()` is where users start; it reads FXHUB_URL and FXHUB_TOKEN (or the token file
that `fxhub serve` writes) and returns a `HubClient`.
"""

from fxhub.hub.client.async_ import AsyncHubClient, AsyncSubscription
from fxhub.hub.client.connect import connect_to_data_hub, connect_to_data_hub_async
from fxhub.hub.client.errors import HubError, HubRejected, HubServerError, HubUnauthorized, HubUnreachable
from fxhub.hub.client.outbox import DeadLetter, Outbox, OutboxPusher, PusherStats
from fxhub.hub.client.results import Health, InventoryItem, PushResult
from fxhub.hub.client.sync import HubClient, Subscription

__all__ = [
    "AsyncHubClient",
    "AsyncSubscription",
    "DeadLetter",
    "Health",
    "HubClient",
    "HubError",
    "HubRejected",
    "HubServerError",
    "HubUnauthorized",
    "HubUnreachable",
    "InventoryItem",
    "Outbox",
    "OutboxPusher",
    "PushResult",
    "PusherStats",
    "Subscription",
    "connect_to_data_hub",
    "connect_to_data_hub_async",
]
