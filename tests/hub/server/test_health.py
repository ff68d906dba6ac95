"""`CountCache`: /healthz's candle count, taken at most once per TTL and kept exact for this hub's pushes."""

from __future__ import annotations

from fxhub.hub.server.health import CountCache


def test_a_count_is_served_until_it_is_older_than_the_ttl() -> None:
    cache = CountCache(ttl=3600)
    assert cache.fresh() is None
    cache.store(10, cache.generation())
    assert cache.fresh() == 10
    stale = CountCache(ttl=0)
    stale.store(10, stale.generation())
    assert stale.fresh() is None


def test_pushes_through_the_hub_add_what_they_inserted() -> None:
    cache = CountCache(ttl=3600)
    cache.inserted(5)  # before any count: nothing to add to
    assert cache.fresh() is None
    cache.store(10, cache.generation())
    cache.inserted(3)
    cache.inserted(0)
    assert cache.fresh() == 13


def test_a_count_that_raced_a_push_is_dropped_not_kept() -> None:
    cache = CountCache(ttl=3600)
    generation = cache.generation()
    cache.inserted(4)  # committed while the count ran: the count may or may not include it
    cache.store(10, generation)
    assert cache.fresh() is None
    cache.store(14, cache.generation())
    assert cache.fresh() == 14
