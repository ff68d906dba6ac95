"""`FrameCache`: a candle list's frame is built once and reused while the list holds the same candles."""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd

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
