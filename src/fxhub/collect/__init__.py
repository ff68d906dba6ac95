"""Collector plumbing shared by every source: the durable hand-off of candles to the hub."""

from fxhub.collect.sink import HubSink, default_outbox_path

__all__ = ["HubSink", "default_outbox_path"]
