"""The live layer with the real `databento.Live` client against the stand-in gateway on loopback.

The stand-in serves six simulated minutes of 6E/6B/6J MBP-10 at `SPEED` × real time; the supervisor's
clock is the stand-in's market clock, so "now" means the same thing on both sides.
Backfills with `backfill="historical"` go through the real `databento.Historical` client to the
Historical API stand-in (HTTPS on loopback) serving the same market.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import databento as db
import pytest
from historical_gateway import HistoricalGateway
from live_gateway import LIVE_API_KEY, LIVE_START, LiveGateway, Market, Scenario, truth_volumes

from fxhub.core.bars import NS_PER_MINUTE, BarSpec
from fxhub.errors import ConfigError, ValidationError
from fxhub.model import Candle
from fxhub.settings import Secret, Settings
from fxhub.sources.databento.session import DatabentoAuthError, GatewayUnreachable, LiveConfig
from fxhub.sources.databento.supervisor import BACKFILL_WARMUP_NS, LiveSupervisor

SPEED = 120.0  # market seconds per wall second: a minute takes 0.5 s
HEARTBEAT_S = 0.05
WAIT_S = 15.0
S = 1_000_000_000
LIVE_START_NS = int(LIVE_START.timestamp()) * S
Key = tuple[str, int]  # (symbol, minute start ns)


class Candles:
    """The output handler: every candle in order, and the latest per (symbol, minute) as a hub keeps it."""

    def __init__(self) -> None:
        self.events: list[Candle] = []
        self.latest: dict[Key, Candle] = {}
        self._lock = threading.Lock()

    def __call__(self, candle: Candle) -> None:
        with self._lock:
            self.events.append(candle)
            self.latest[(candle.symbol, int(candle.timestamp.timestamp()) * S)] = candle

    def history(self, key: Key) -> list[Candle]:
        with self._lock:
            return [c for c in self.events if (c.symbol, int(c.timestamp.timestamp()) * S) == key]

    def has_final(self, keys: set[Key]) -> bool:
        with self._lock:
            return all(k in self.latest and self.latest[k].complete is not False for k in keys)


def wait_for(condition: Callable[[], bool], what: str, timeout_s: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.01)


@pytest.fixture
def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture(scope="module")
def truth(live_market_dir: Path) -> dict[Key, float]:
    return truth_volumes(live_market_dir / "truth.csv")


def live_config(gateway: LiveGateway, *, key: str = LIVE_API_KEY, **overrides: object) -> LiveConfig:
    values: dict[str, object] = {
        "api_key": Secret(key),
        "gateway": gateway.host,
        "port": gateway.port,
        "advance_interval_s": 0.02,
        "restart_backoff_s": 0.05,
        "backfill_timeout_s": 10.0,
        # 30 market seconds = 250 ms of wall time here: room for the client's and the consumer's lag.
        "bar_spec": BarSpec(grace_ns=30 * S),
    }
    values.update(overrides)
    return LiveConfig(**values)  # type: ignore[arg-type]


def supervise(
    gateway: LiveGateway, handler: Candles, *, historical: object = None, **overrides: object
) -> LiveSupervisor:
    config = live_config(gateway, **overrides)
    return LiveSupervisor(config, handler, clock=gateway.market_now_ns, historical_client=historical)


@pytest.fixture
def historical(
    historical_gateway: Callable[..., HistoricalGateway], live_market_dir: Path
) -> HistoricalGateway:
    """The Historical API stand-in over the same market; Databento takes one key for Live and Historical."""
    return historical_gateway(
        sorted((live_market_dir / "cme").glob("*.mbp-10.dbn.zst")), api_key=LIVE_API_KEY
    )


def historical_client(historical: HistoricalGateway) -> db.Historical:
    """The real client the supervisor backfills with, pointed at the stand-in."""
    return db.Historical(key=LIVE_API_KEY, gateway=historical.url)


def records_before(market: Market, ts_ns: int) -> int:
    return sum(1 for t in market.ts if t < ts_ns)


def assert_volumes_equal_truth(candles: Candles, truth: dict[Key, float]) -> None:
    got = {key: candles.latest[key].volume for key in truth}
    assert got == truth
    assert all(candles.latest[key].complete is not False for key in truth)


# ---------------------------------------------------------------------------------------------------------


def test_live_candles_equal_the_simulated_truth_and_heartbeats_arrive_when_quiet(
    live_gateway: Callable[..., LiveGateway], live_market: Market, truth: dict[Key, float]
) -> None:
    gateway = live_gateway(Scenario(speed=SPEED, heartbeat_interval_s=HEARTBEAT_S))
    candles = Candles()
    supervisor = supervise(gateway, candles)
    started = time.monotonic()
    with supervisor:
        wait_for(lambda: candles.has_final(set(truth)), "every simulated minute's candle")
        elapsed = time.monotonic() - started
        wait_for(lambda: supervisor.stats.heartbeats >= 2, "heartbeats after the data ran out")
    stats = supervisor.stats
    assert_volumes_equal_truth(candles, truth)
    assert {c.complete for key in truth for c in candles.history(key)} == {None}, "each minute once"
    assert stats.records == len(live_market.records)
    assert stats.gaps == []
    assert stats.reconnects == 0
    assert stats.restarts == 0
    assert stats.sessions == 1
    assert stats.last_record_ns == live_market.ts[-1]
    assert stats.candles == len(candles.events)
    (session,) = gateway.connections
    assert session.auth["heartbeat_interval_s"] == "30"
    assert session.auth["compression"] == "none"
    assert session.subscriptions[0]["stype_in"] == "parent"
    assert set(session.subscriptions[0]["symbols"].split(",")) == {"6E.FUT", "6B.FUT", "6J.FUT"}
    assert session.ended == "client closed"
    assert elapsed < 6 * 60 / SPEED + 3.0, "candles follow the market clock, not a sleep"
    assert [t.name for t in threading.enumerate() if t.name.startswith("databento-")] == []


def test_a_refused_key_raises_a_clear_error_without_printing_the_key(
    live_gateway: Callable[..., LiveGateway],
) -> None:
    gateway = live_gateway(Scenario(speed=SPEED))
    wrong = "db-ThisKeyIsNotTheOneTheGatewayKnows"
    supervisor = supervise(gateway, Candles(), key=wrong)
    with pytest.raises(DatabentoAuthError, match="DATABENTO_API_KEY") as raised:
        supervisor.start()
    message = str(raised.value)
    assert "refused" in message
    assert "Authentication failed." in message
    assert wrong not in message
    assert wrong[:-2] not in message
    assert [c.ended for c in gateway.connections] == ["refused"]
    supervisor.stop()  # harmless after a failed start


def test_a_missing_api_key_raises_config_error_naming_the_variable() -> None:
    with pytest.raises(ConfigError, match="DATABENTO_API_KEY"):
        LiveSupervisor(LiveConfig(), Candles(), settings=Settings())


def test_a_drop_is_reconnected_recorded_and_backfilled_so_every_minute_counts_once(
    live_gateway: Callable[..., LiveGateway], live_market: Market, truth: dict[Key, float]
) -> None:
    # Reset the connection 10 s into minute 2; the market runs on for ~18 s before the client is back.
    drop_at = records_before(live_market, LIVE_START_NS + 2 * NS_PER_MINUTE + 10 * S)
    scenario = Scenario(
        speed=SPEED, heartbeat_interval_s=HEARTBEAT_S, drop_after_records=drop_at, reconnect_delay_s=0.15
    )
    gateway = live_gateway(scenario)
    candles = Candles()
    supervisor = supervise(gateway, candles)
    with supervisor:
        wait_for(lambda: candles.has_final(set(truth)), "every minute, the gap backfilled")
        wait_for(lambda: all(g.backfilled for g in supervisor.stats.gaps), "the backfill")
    stats = supervisor.stats

    first, second = gateway.live_sessions
    assert first.ended == "reset"
    assert second.metadata_start_ns is not None
    assert stats.reconnects == 1
    assert stats.restarts == 0
    assert stats.sessions == 1
    (gap,) = stats.gaps
    assert gap.cause == "reconnect"
    assert gap.backfilled
    assert gap.error is None
    assert gap.end_ns is not None
    assert gap.reported is not None
    assert gap.start_ns <= gap.reported[0]
    assert gap.end_ns >= gap.reported[1] - 1
    assert gap.end_ns - gap.start_ns >= 10 * S, "the market moved on while the client was away"
    assert stats.remarked == 0, "the gap was known before any minute it touched was closed"
    (replay,) = gateway.replay_sessions
    assert replay.replay_start_ns == gap.start_ns // NS_PER_MINUTE * NS_PER_MINUTE - BACKFILL_WARMUP_NS

    assert_volumes_equal_truth(candles, truth)
    touched = {key for key in truth if gap.start_ns < key[1] + NS_PER_MINUTE and key[1] <= gap.end_ns}
    assert {key[1] for key in touched} == {LIVE_START_NS + 2 * NS_PER_MINUTE}
    lost_trades = False
    for key in touched:
        history = candles.history(key)
        assert history[0].complete is False, f"{key}: first emitted incomplete"
        assert history[-1].complete is True, f"{key}: finally replaced by the backfill"
        assert all(c.complete is False for c in history[:-1])
        lost_trades |= history[0].volume < truth[key]
    assert lost_trades, "the drop lost trades that only the backfill brought back"
    for key in set(truth) - touched:
        assert [c.complete for c in candles.history(key)] == [None], f"{key}: emitted once, untouched"


def test_a_clean_end_of_stream_makes_the_supervisor_start_a_new_session_and_backfill(
    live_gateway: Callable[..., LiveGateway], live_market: Market, truth: dict[Key, float]
) -> None:
    eof_at = records_before(live_market, LIVE_START_NS + 3 * NS_PER_MINUTE + 10 * S)
    scenario = Scenario(
        speed=SPEED, heartbeat_interval_s=HEARTBEAT_S, eof_after_records=eof_at, reconnect_delay_s=0.15
    )
    gateway = live_gateway(scenario)
    candles = Candles()
    supervisor = supervise(gateway, candles)
    with supervisor:
        wait_for(lambda: candles.has_final(set(truth)), "every minute after the restart")
        wait_for(lambda: all(g.backfilled for g in supervisor.stats.gaps), "the backfill")
    stats = supervisor.stats

    first, second = gateway.live_sessions
    assert first.ended == "eof"
    assert first.session_id != second.session_id
    assert stats.sessions == 2
    assert stats.restarts == 1
    assert stats.reconnects == 0
    (gap,) = stats.gaps
    assert gap.cause == "restart"
    assert gap.backfilled
    assert gap.reported is None
    assert gap.start_ns == first.last_ts_ns
    assert second.first_ts_ns is not None
    assert gap.end_ns == second.first_ts_ns
    assert_volumes_equal_truth(candles, truth)
    touched = {key for key in truth if gap.start_ns < key[1] + NS_PER_MINUTE and key[1] <= gap.end_ns}
    assert touched
    for key in touched:
        assert candles.history(key)[0].complete is False
        assert candles.history(key)[-1].complete is True


def test_a_gap_is_backfilled_from_the_historical_api_when_configured(
    live_gateway: Callable[..., LiveGateway],
    live_market: Market,
    truth: dict[Key, float],
    historical: HistoricalGateway,
) -> None:
    drop_at = records_before(live_market, LIVE_START_NS + NS_PER_MINUTE + 20 * S)
    scenario = Scenario(
        speed=SPEED, heartbeat_interval_s=HEARTBEAT_S, drop_after_records=drop_at, reconnect_delay_s=0.15
    )
    gateway = live_gateway(scenario)
    candles = Candles()
    client = historical_client(historical)
    supervisor = supervise(gateway, candles, backfill="historical", historical=client)
    with supervisor:
        wait_for(lambda: candles.has_final(set(truth)), "every minute, the gap backfilled")
        wait_for(lambda: all(g.backfilled for g in supervisor.stats.gaps), "the backfill")
    (gap,) = supervisor.stats.gaps
    assert_volumes_equal_truth(candles, truth)
    assert gateway.replay_sessions == [], "no intraday replay"
    (call,) = historical.requests
    assert (call.status, call.key) == (200, LIVE_API_KEY)
    assert call.schema == "mbp-10"
    assert call.form["stype_in"] == "raw_symbol"
    assert call.symbols == sorted(live_market.raw_symbols.values())
    assert int(call.form["start"]) == gap.start_ns // NS_PER_MINUTE * NS_PER_MINUTE - BACKFILL_WARMUP_NS
    assert gap.end_ns is not None
    assert int(call.form["end"]) == (gap.end_ns // NS_PER_MINUTE + 1) * NS_PER_MINUTE, "to the minute's end"


def test_a_key_refused_when_reconnecting_stops_the_supervisor_with_the_auth_error(
    live_gateway: Callable[..., LiveGateway],
) -> None:
    gateway = live_gateway(Scenario(speed=SPEED, drop_after_records=500))
    supervisor = supervise(gateway, Candles())
    with supervisor:
        gateway.scenario.refuse_auth = True  # the key is revoked while the first session runs
        with pytest.raises(DatabentoAuthError, match="DATABENTO_API_KEY"):
            supervisor.wait(timeout_s=WAIT_S)
    stats = supervisor.stats
    assert stats.sessions == 1
    assert stats.restarts == 0
    assert [c.ended for c in gateway.connections] == ["reset", "refused", "refused"]
    (gap,) = stats.gaps
    assert gap.end_ns is None, "the feed never came back"
    assert not gap.backfilled


def test_an_unreachable_gateway_raises_at_start(unused_port: int) -> None:
    config = LiveConfig(api_key=Secret(LIVE_API_KEY), gateway="127.0.0.1", port=unused_port)
    supervisor = LiveSupervisor(config, Candles())
    with pytest.raises(GatewayUnreachable, match=f"127.0.0.1:{unused_port}"):
        supervisor.start()


@pytest.mark.parametrize(
    ("field", "value"),
    [("symbols", "6E.FUT"), ("symbols", ()), ("heartbeat_interval_s", 1), ("schema", "ohlcv-1m")],
)
def test_live_config_rejects_bad_values_naming_the_field(field: str, value: object) -> None:
    with pytest.raises(ValidationError, match=f"`{field}`"):
        LiveConfig(**{field: value})  # type: ignore[arg-type]


def test_heartbeats_keep_a_quiet_session_alive_and_are_counted(
    live_gateway: Callable[..., LiveGateway], live_market: Market
) -> None:
    after_the_data = live_market.ts[-1] + 10 * NS_PER_MINUTE
    gateway = live_gateway(Scenario(speed=SPEED, heartbeat_interval_s=0.02, clock_start_ns=after_the_data))
    candles = Candles()
    supervisor = supervise(gateway, candles)
    with supervisor:
        wait_for(lambda: supervisor.stats.heartbeats >= 5, "five heartbeats")
    assert supervisor.stats.records == 0
    assert candles.events == []
    assert gateway.connections[0].heartbeats_sent >= 5


def test_outside_cme_hours_the_log_says_when_the_market_opens_next(
    live_gateway: Callable[..., LiveGateway], caplog: pytest.LogCaptureFixture
) -> None:
    saturday = int(datetime(2025, 11, 8, 12, 0, tzinfo=UTC).timestamp()) * S
    gateway = live_gateway(Scenario(speed=1.0, heartbeat_interval_s=0.02, clock_start_ns=saturday))
    supervisor = supervise(gateway, Candles())
    with caplog.at_level(logging.WARNING, logger="fxhub.sources.databento"), supervisor:
        pass
    (message,) = [r.getMessage() for r in caplog.records if "open next" in r.getMessage()]
    assert "2025-11-09T23:00:00+00:00" in message, "Sunday 17:00 Chicago"


def test_stop_flushes_the_running_minute_as_incomplete(
    live_gateway: Callable[..., LiveGateway], truth: dict[Key, float]
) -> None:
    gateway = live_gateway(Scenario(speed=SPEED))
    candles = Candles()
    supervisor = supervise(gateway, candles)
    minute0 = {key for key in truth if key[1] == LIVE_START_NS}
    with supervisor:
        wait_for(lambda: candles.has_final(minute0), "the first minute")
    for key in minute0:
        assert candles.latest[key].volume == truth[key]
    flushed = [c for c in candles.events if c.timestamp > LIVE_START]
    assert flushed, "the minute running at stop() was handed on"
    assert {c.complete for c in flushed} == {False}
    assert all(c.volume <= truth[(c.symbol, int(c.timestamp.timestamp()) * S)] for c in flushed)


# -- the first minute after a start -------------------------------------------------------------------


@pytest.mark.parametrize("backfill", ["replay", "historical"])
def test_a_start_mid_minute_marks_that_minute_incomplete_until_the_backfill_rebuilds_it_whole(
    live_gateway: Callable[..., LiveGateway],
    truth: dict[Key, float],
    historical: HistoricalGateway,
    backfill: str,
) -> None:
    # A restart 25 s into the first minute: the stream has nothing of 14:00:00–14:00:25.
    started = LIVE_START_NS + 25 * S
    gateway = live_gateway(Scenario(speed=SPEED, heartbeat_interval_s=HEARTBEAT_S, clock_start_ns=started))
    candles = Candles()
    supervisor = supervise(gateway, candles, backfill=backfill, historical=historical_client(historical))
    with supervisor:
        wait_for(lambda: candles.has_final(set(truth)), "every minute, the first one backfilled")
        wait_for(lambda: all(g.backfilled for g in supervisor.stats.gaps), "the backfill")
    stats = supervisor.stats

    (session,) = gateway.live_sessions
    (gap,) = stats.gaps
    assert gap.cause == "start"
    assert (gap.start_ns, gap.end_ns) == (LIVE_START_NS, session.first_ts_ns)
    assert session.first_ts_ns is not None
    assert session.first_ts_ns >= started
    assert gap.backfilled
    assert gap.error is None
    assert gap.candles == len({key[0] for key in truth}), "one rebuilt minute per pair"
    assert (stats.restarts, stats.reconnects) == (0, 0)
    starts = [r.replay_start_ns for r in gateway.replay_sessions] + [
        int(r.form["start"]) for r in historical.requests
    ]
    assert starts == [LIVE_START_NS - BACKFILL_WARMUP_NS]

    assert_volumes_equal_truth(candles, truth)
    first_minute = {key for key in truth if key[1] == LIVE_START_NS}
    lost_trades = False
    for key in first_minute:
        history = candles.history(key)
        assert [c.complete for c in history] == [False, True], f"{key}: the tail, then the whole minute"
        assert history[-1].volume == truth[key]
        lost_trades |= history[0].volume < truth[key]
    assert lost_trades, "the first 25 s held trades that only the backfill brought back"
    for key in set(truth) - first_minute:
        assert [c.complete for c in candles.history(key)] == [None], f"{key}: emitted once, whole"


def test_a_start_mid_minute_without_backfill_leaves_that_minute_incomplete(
    live_gateway: Callable[..., LiveGateway], truth: dict[Key, float]
) -> None:
    gateway = live_gateway(Scenario(speed=SPEED, clock_start_ns=LIVE_START_NS + 25 * S))
    candles = Candles()
    supervisor = supervise(gateway, candles, backfill="off")
    second_minute = {key for key in truth if key[1] == LIVE_START_NS + NS_PER_MINUTE}
    with supervisor:
        wait_for(lambda: candles.has_final(second_minute), "the second minute")
    (gap,) = supervisor.stats.gaps
    assert (gap.cause, gap.start_ns, gap.backfilled) == ("start", LIVE_START_NS, False)
    assert gateway.replay_sessions == []
    for key in truth:
        if key[1] == LIVE_START_NS:
            assert [c.complete for c in candles.history(key)] == [False], f"{key}: only its tail was seen"
    for key in second_minute:
        assert candles.latest[key].volume == truth[key]


@pytest.mark.parametrize(
    ("clock_start_ns", "first_minute_ns"),
    [
        pytest.param(
            LIVE_START_NS + 2 * NS_PER_MINUTE, LIVE_START_NS + 2 * NS_PER_MINUTE, id="on-a-boundary"
        ),
        pytest.param(LIVE_START_NS - 20 * S, LIVE_START_NS, id="before-any-data"),
    ],
)
def test_a_start_on_a_minute_boundary_or_before_any_data_records_no_gap(
    live_gateway: Callable[..., LiveGateway],
    truth: dict[Key, float],
    clock_start_ns: int,
    first_minute_ns: int,
) -> None:
    gateway = live_gateway(Scenario(speed=SPEED, clock_start_ns=clock_start_ns))
    candles = Candles()
    supervisor = supervise(gateway, candles)
    seen = {key: volume for key, volume in truth.items() if key[1] >= first_minute_ns}
    with supervisor:
        wait_for(lambda: candles.has_final(set(seen)), "every minute from the start on")
    assert supervisor.stats.gaps == []
    assert gateway.replay_sessions == []
    assert_volumes_equal_truth(candles, seen)
    assert {c.complete for key in seen for c in candles.history(key)} == {None}, "each minute once, whole"
    assert all(c.timestamp.timestamp() * S >= first_minute_ns for c in candles.events)


def test_a_start_while_the_market_is_closed_records_no_gap_for_the_minute_of_the_first_record(
    live_gateway: Callable[..., LiveGateway], live_market: Market, truth: dict[Key, float]
) -> None:
    # Records of a minute the calendar calls closed (as a pre-open book would send): no candle, no gap.
    gateway = live_gateway(Scenario(speed=SPEED, clock_start_ns=LIVE_START_NS + 25 * S))
    candles = Candles()
    config = live_config(gateway)
    opens = LIVE_START_NS + NS_PER_MINUTE
    supervisor = LiveSupervisor(
        config, candles, clock=gateway.market_now_ns, market_open=lambda minute_ns: minute_ns >= opens
    )
    seen = {key for key in truth if key[1] >= opens}
    with supervisor:
        wait_for(lambda: candles.has_final(seen), "the minutes after the open")
    assert supervisor.stats.gaps == []
    assert all(c.timestamp.timestamp() * S >= opens for c in candles.events)
