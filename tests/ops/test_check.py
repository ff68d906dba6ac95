"""`fxhub check`'s verdicts from constructed snapshots and fixed clocks: one test per verdict."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from fxhub.hub.client import HubServerError, HubUnauthorized, HubUnreachable
from fxhub.model import Candle, Source
from fxhub.ops import (
    HAS_REAL_VOLUME,
    NO_DATA,
    WAITING,
    CheckReport,
    MarketHours,
    PairSnapshot,
    Severity,
    check_pair,
    check_pipeline,
    hub_failure,
)

# November 2025 is after the US DST switch: Chicago is UTC-6, CME FX trades 23:00-22:00 UTC on weekdays.
TUESDAY_OPEN = datetime(2025, 11, 4, 14, 0, 20, tzinfo=UTC)  # CME and spot FX open
DAILY_BREAK = datetime(2025, 11, 4, 22, 30, tzinfo=UTC)  # 16:30 CT: CME closed, spot open
JUST_OPENED = datetime(2025, 11, 4, 23, 0, 30, tzinfo=UTC)  # 30 s into the CME session
SATURDAY = datetime(2025, 11, 8, 12, 0, tzinfo=UTC)  # everything closed
URL = "http://127.0.0.1:50000"
MakeCandle = Callable[..., Candle]


def minute(moment: datetime, minutes_before: int = 0) -> datetime:
    """The start of the minute `minutes_before` minutes before the one containing `moment`."""
    return moment.replace(second=0, microsecond=0) - timedelta(minutes=minutes_before)


def snapshot(
    newest_real: datetime | None = None,
    newest_tick: datetime | None = None,
    latest: Candle | None = None,
    pair: str = "EUR_USD",
) -> PairSnapshot:
    counts, newest = {}, {}
    if newest_real is not None:
        counts[Source.DATABENTO], newest[Source.DATABENTO] = 60, newest_real
    if newest_tick is not None:
        counts[Source.IG], newest[Source.IG] = 60, newest_tick
    return PairSnapshot(pair=pair, counts=counts, newest=newest, latest_databento=latest)


def test_check_when_both_sources_are_fresh_and_cme_open_has_real_trade_volume(
    make_candle: MakeCandle,
) -> None:
    hours = MarketHours.at(TUESDAY_OPEN)
    latest = make_candle(minute(TUESDAY_OPEN, 1))
    report = check_pair(snapshot(latest.timestamp, minute(TUESDAY_OPEN, 1), latest), hours)

    assert report.verdict.title == HAS_REAL_VOLUME
    assert report.findings == (report.verdict,)
    assert report.severity is Severity.OK
    assert "CME open until 2025-11-04 22:00 UTC" in report.verdict.detail
    assert report.to_dict()["latest_databento"]["volume_type"] == "real"
    assert CheckReport(hub_url=URL, hours=hours, pairs=(report,)).ok


def test_check_when_a_pair_has_no_candles_at_all_is_an_error() -> None:
    report = check_pair(snapshot(), MarketHours.at(TUESDAY_OPEN))
    assert report.verdict.title == NO_DATA
    assert report.severity is Severity.ERROR
    assert "fxhub collect" in report.verdict.action
    assert not CheckReport(hub_url=URL, hours=MarketHours.at(TUESDAY_OPEN), pairs=(report,)).ok


def test_check_with_only_ig_while_cme_is_open_is_waiting_and_blames_the_databento_collector() -> None:
    hours = MarketHours.at(TUESDAY_OPEN)
    report = check_pair(snapshot(newest_tick=minute(TUESDAY_OPEN, 1)), hours)
    assert report.verdict.title == WAITING
    assert report.severity is Severity.ERROR
    assert "Databento collector is not pushing" in report.verdict.detail
    assert "only IG (tick volume) data" in report.verdict.detail
    assert "DATABENTO_API_KEY" in report.verdict.action
    assert not CheckReport(hub_url=URL, hours=hours, pairs=(report,)).ok


@pytest.mark.parametrize(
    ("now", "opens"),
    [(DAILY_BREAK, "2025-11-04 23:00 UTC (in 30 min)"), (SATURDAY, "2025-11-09 23:00 UTC (in 1 d 11 h)")],
)
def test_check_with_only_ig_while_cme_is_closed_is_waiting_but_healthy(now: datetime, opens: str) -> None:
    hours = MarketHours.at(now)
    report = check_pair(snapshot(newest_tick=minute(now, 1)), hours)
    assert report.verdict.title == WAITING
    assert report.severity is Severity.WARN
    assert f"CME is closed now; it opens {opens}" in report.verdict.detail
    assert CheckReport(hub_url=URL, hours=hours, pairs=(report,)).ok


def test_check_with_only_ig_in_the_first_minute_of_the_session_says_the_first_candle_is_coming() -> None:
    report = check_pair(snapshot(newest_tick=minute(JUST_OPENED, 1)), MarketHours.at(JUST_OPENED))
    assert report.verdict.title == WAITING
    assert report.severity is Severity.WARN
    assert "first minute candle appears when that minute closes" in report.verdict.detail


def test_check_when_databento_stopped_while_cme_is_open_is_stale() -> None:
    report = check_pair(
        snapshot(minute(TUESDAY_OPEN, 20), minute(TUESDAY_OPEN, 1)), MarketHours.at(TUESDAY_OPEN)
    )
    assert report.verdict.title == "❌ STALE: DataBento candles stopped 19 min ago."
    assert report.severity is Severity.ERROR
    assert "the newest DATABENTO candle is from 2025-11-04 13:40 UTC" in report.verdict.detail


def test_check_stale_after_is_a_parameter() -> None:
    hours = MarketHours.at(TUESDAY_OPEN)
    fresh_enough = snapshot(minute(TUESDAY_OPEN, 20), minute(TUESDAY_OPEN, 1))
    assert check_pair(fresh_enough, hours, stale_after=timedelta(minutes=30)).severity is Severity.OK
    late = snapshot(minute(TUESDAY_OPEN, 3), minute(TUESDAY_OPEN, 1))
    assert check_pair(late, hours, stale_after=timedelta(minutes=1)).severity is Severity.ERROR


def test_check_just_after_the_open_does_not_call_last_sessions_candles_stale() -> None:
    before_the_break = minute(DAILY_BREAK.replace(hour=21, minute=59))
    now = JUST_OPENED + timedelta(minutes=3)
    report = check_pair(snapshot(before_the_break, minute(now, 1)), MarketHours.at(now))
    assert report.verdict.title == HAS_REAL_VOLUME


def test_check_while_cme_is_closed_with_candles_up_to_the_close_has_real_trade_volume() -> None:
    last_minute = minute(DAILY_BREAK.replace(hour=21, minute=59))
    report = check_pair(snapshot(last_minute, minute(DAILY_BREAK, 1)), MarketHours.at(DAILY_BREAK))
    assert report.verdict.title == HAS_REAL_VOLUME
    assert "CME is closed now (opens 2025-11-04 23:00 UTC)" in report.verdict.detail


def test_check_while_cme_is_closed_warns_when_databento_stopped_before_the_close() -> None:
    hours = MarketHours.at(SATURDAY)  # the last session closed Friday 22:00 UTC
    report = check_pair(snapshot(datetime(2025, 11, 7, 18, 0, tzinfo=UTC)), hours)
    assert report.verdict.severity is Severity.WARN
    assert "stopped before the last CME close" in report.verdict.title
    assert "2025-11-07 22:00 UTC" in report.verdict.detail


def test_check_without_ig_candles_warns_that_there_is_no_spot_fallback() -> None:
    report = check_pair(snapshot(minute(TUESDAY_OPEN, 1)), MarketHours.at(TUESDAY_OPEN))
    assert report.verdict.title == HAS_REAL_VOLUME
    assert report.severity is Severity.WARN
    assert report.findings[1].title == "⚠️ No IG candles: strategies have no spot fallback."


def test_check_when_ig_stopped_while_spot_fx_is_open_is_stale() -> None:
    report = check_pair(
        snapshot(minute(TUESDAY_OPEN, 1), minute(TUESDAY_OPEN, 30)), MarketHours.at(TUESDAY_OPEN)
    )
    assert report.verdict.title == HAS_REAL_VOLUME
    assert report.findings[1].title == "❌ STALE: IG candles stopped 29 min ago."
    assert report.severity is Severity.ERROR


def test_check_of_a_weekend_hub_with_friday_data_is_healthy() -> None:
    friday_close = datetime(2025, 11, 7, 21, 59, tzinfo=UTC)
    report = check_pair(snapshot(friday_close, friday_close), MarketHours.at(SATURDAY))
    assert report.severity is Severity.OK


@pytest.mark.parametrize(
    ("error", "title"),
    [
        (HubUnreachable(URL, "ConnectError"), f"❌ Hub unreachable at {URL}"),
        (HubUnauthorized(URL, "wrong token", "FXHUB_TOKEN"), f"❌ The hub at {URL} refused the token"),
        (HubServerError(URL, 503, "store down"), f"❌ The hub at {URL} failed"),
    ],
)
def test_check_when_the_hub_cannot_be_read_fails_with_what_to_do(error: Exception, title: str) -> None:
    failure = hub_failure(URL, error)  # type: ignore[arg-type]
    report = CheckReport(hub_url=URL, hours=MarketHours.at(TUESDAY_OPEN), failure=failure)
    assert not report.ok
    assert failure.title == title
    assert failure.severity is Severity.ERROR
    assert str(error) == failure.detail
    assert report.to_dict()["error"]["title"] == title


def test_check_report_is_plain_json(make_candle: MakeCandle) -> None:
    hours = MarketHours.at(TUESDAY_OPEN)
    latest = make_candle(minute(TUESDAY_OPEN, 1))
    snapshots = [
        snapshot(latest.timestamp, minute(TUESDAY_OPEN, 1), latest),
        snapshot(newest_tick=minute(TUESDAY_OPEN, 1), pair="GBP_USD"),
    ]
    data = json.loads(
        json.dumps(CheckReport(hub_url=URL, hours=hours, pairs=check_pipeline(snapshots, hours)).to_dict())
    )
    assert data["ok"] is False
    assert data["now"] == "2025-11-04T14:00:20Z"
    assert [(p["pair"], p["verdict"], p["severity"]) for p in data["pairs"]] == [
        ("EUR_USD", HAS_REAL_VOLUME, "ok"),
        ("GBP_USD", WAITING, "error"),
    ]
    assert data["pairs"][0]["newest"] == {"DATABENTO": "2025-11-04T13:59:00Z", "IG": "2025-11-04T13:59:00Z"}
