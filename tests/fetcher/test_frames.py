"""`FrameCache`: a candle list's frame is built once and reused while the list holds the same candles."""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fxhub.fetcher.frames import FrameCache, candles_frame


def test_the_same_candle_objects_in_a_new_list_reuse_the_frame(mk: Any) -> None:
    cache = FrameCache()
    candles = [mk.db(m) for m in range(30)]
    first = cache.frame(("EUR_USD", "DATABENTO"), candles)
    assert cache.frame(("EUR_USD", "DATABENTO"), list(candles)) is first
    pd.testing.assert_frame_equal(first, candles_frame(candles))


def test_a_revised_candle_an_added_one_or_another_key_builds_the_frame_again(mk: Any) -> None:
    cache = FrameCache()
    candles = [mk.db(m) for m in range(30)]
    first = cache.frame("k", candles)
    revised = [*candles[:-1], dataclasses.replace(candles[-1], volume=1.0, buy_volume=0.5, sell_volume=0.5)]
    again = cache.frame("k", revised)  # equal timestamps, another object at the end
    assert again is not first
    assert again["volume"].iloc[-1] == 1.0
    longer = cache.frame("k", [*revised, mk.db(30)])
    assert len(longer) == 31
    assert cache.frame("other", revised) is not again


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=st.lists(
        st.tuples(st.integers(0, 4), st.integers(0, 3), st.booleans(), st.booleans()), min_size=1, max_size=12
    )
)
def test_whatever_the_page_did_the_frame_equals_one_built_from_scratch(
    mk: Any, steps: list[tuple[int, int, bool, bool]]
) -> None:
    # Each step: drop some candles at the front, add some at the end (some of them IG-shaped, with
    # other extras), maybe revise one in the middle, maybe hand over an equal list of the same objects.
    cache = FrameCache()
    page = [mk.db(m) for m in range(20)]
    cache.frame("k", page)
    for dropped, added, revise, other_kind in steps:
        newest = page[-1].timestamp.minute + 60 * page[-1].timestamp.hour
        start = newest - 13 * 60 + 1  # minutes after T0 (13:00)
        fresh = [(mk.ig if other_kind else mk.db)(start + n) for n in range(added)]
        page = page[dropped:] + fresh
        if revise and len(page) > 2:
            middle = len(page) // 2
            page[middle] = dataclasses.replace(page[middle], close=page[middle].low)
        if not page:
            page = [mk.db(start + added)]
        pd.testing.assert_frame_equal(cache.frame("k", list(page)), candles_frame(page))
