"""`select_source`: the window, coverage counting and the choice, around the threshold and on bad data."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from fxhub.errors import ValidationError
from fxhub.fetcher import SelectionPolicy, select_source
from fxhub.model import Candle, Source

AUTO = SelectionPolicy()


def _lists(mk: Any, ig: Any, db: Any) -> dict[Source, list[Candle]]:
    return {Source.IG: [mk.ig(m) for m in ig], Source.DATABENTO: [mk.db(m) for m in db]}


@pytest.mark.parametrize(
    ("db_minutes", "chosen"), [(29, "IG"), (30, "DATABENTO"), (31, "DATABENTO"), (60, "DATABENTO")]
)
def test_auto_takes_databento_from_half_the_window(mk: Any, db_minutes: int, chosen: str) -> None:
    # DATABENTO has the *newest* `db_minutes` of the 60; IG has all of them.
    selection = select_source(_lists(mk, range(60), range(60 - db_minutes, 60)), 60, AUTO)
    assert selection.chosen == chosen
    assert selection.coverage[Source.DATABENTO].minutes == db_minutes
    assert selection.coverage[Source.IG].minutes == 60
    assert selection.window_end == mk.t0 + timedelta(minutes=59)
    assert selection.window_start == mk.t0
    assert f"{db_minutes}/60" in selection.reason
    assert ("below" in selection.reason) == (chosen == "IG")


def test_coverage_counts_only_minutes_inside_the_window(mk: Any) -> None:
    # 100 DATABENTO minutes before the window do not help it: only the last 60 minutes count.
    selection = select_source(_lists(mk, range(200), range(0, 150)), 60, AUTO)
    assert selection.window_start == mk.t0 + timedelta(minutes=140)
    assert selection.coverage[Source.DATABENTO].minutes == 10
    assert selection.chosen == "IG"


def test_gaps_reduce_coverage_minute_by_minute(mk: Any) -> None:
    db = [m for m in range(60) if m % 2 == 0]  # every other minute: exactly 30
    assert select_source(_lists(mk, range(60), db), 60, AUTO).chosen == "DATABENTO"
    db = [m for m in range(60) if m % 2 == 0 and m != 58]  # one more gap: 29
    selection = select_source(_lists(mk, range(60), db), 60, AUTO)
    assert selection.chosen == "IG"
    assert selection.coverage[Source.DATABENTO].share == pytest.approx(29 / 60)


def test_a_source_that_stops_mid_window_is_counted_against_the_newest_minute(mk: Any) -> None:
    # DATABENTO stopped 30 minutes ago; IG is current. The window ends at IG's newest minute.
    selection = select_source(_lists(mk, range(90), range(60)), 60, AUTO)
    assert selection.window_end == mk.t0 + timedelta(minutes=89)
    assert selection.coverage[Source.DATABENTO].minutes == 30
    assert selection.chosen == "DATABENTO"
    assert "30 min before the window end" in selection.reason
    selection = select_source(_lists(mk, range(91), range(60)), 60, AUTO)
    assert selection.chosen == "IG"


def test_a_missing_source_falls_back_to_the_other(mk: Any) -> None:
    only_ig = select_source(_lists(mk, range(60), []), 60, AUTO)
    assert only_ig.chosen == "IG"
    assert "DATABENTO has no candles" in only_ig.reason
    only_db = select_source(_lists(mk, [], range(50, 60)), 60, AUTO)
    assert only_db.chosen == "DATABENTO"  # thin, but the only data there is
    assert "IG has no minutes" in only_db.reason
    nothing = select_source(_lists(mk, [], []), 60, AUTO)
    assert nothing.chosen is None
    assert nothing.window_end is None


def test_threshold_is_configurable(mk: Any) -> None:
    strict = SelectionPolicy(threshold=0.8)
    assert select_source(_lists(mk, range(60), range(13, 60)), 60, strict).chosen == "IG"  # 47 < 48
    assert select_source(_lists(mk, range(60), range(12, 60)), 60, strict).chosen == "DATABENTO"


def test_single_source_policies_read_and_anchor_on_their_source_only(mk: Any) -> None:
    lists = _lists(mk, range(100), range(40))
    ig = select_source(lists, 60, SelectionPolicy(policy="ig"))
    assert ig.chosen == "IG"
    assert set(ig.coverage) == {Source.IG}
    db = select_source(lists, 60, SelectionPolicy(policy="databento"))
    assert db.chosen == "DATABENTO"
    assert db.window_end == mk.t0 + timedelta(minutes=39)  # its own newest minute
    assert db.coverage[Source.DATABENTO].minutes == 40
    assert select_source(_lists(mk, range(10), []), 60, SelectionPolicy(policy="databento")).chosen is None


def test_hybrid_needs_ig_prices_and_counts_cme_minutes(mk: Any) -> None:
    selection = select_source(_lists(mk, range(60), range(0, 60, 3)), 60, SelectionPolicy(policy="hybrid"))
    assert selection.chosen == "HYBRID"
    assert selection.hybrid_real_minutes == 20
    assert not selection.real_volume  # 20 of 60 is below half: no VWAP on a third of the volume
    assert "twap" in selection.reason
    full = select_source(_lists(mk, range(60), range(60)), 60, SelectionPolicy(policy="hybrid"))
    assert full.real_volume
    no_ig = select_source(_lists(mk, [], range(60)), 60, SelectionPolicy(policy="hybrid"))
    assert no_ig.chosen == "DATABENTO"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("policy", "best"),
        ("threshold", 0.0),
        ("threshold", 1.5),
        ("threshold", True),
        ("basis_min_overlap", 0),
    ],
)
def test_bad_policies_are_refused_by_name(field: str, value: Any) -> None:
    with pytest.raises(ValidationError, match=field):
        SelectionPolicy(**{field: value})


def test_bars_must_be_positive(mk: Any) -> None:
    with pytest.raises(ValueError, match="bars"):
        select_source(_lists(mk, range(5), []), 0, AUTO)
