"""The IG stream with the real lightstreamer-client-lib 1.0.3 against a TLCP-2.4.0 server on loopback.

Also `LiveIg` end to end: REST login → stream → candles, a lost session → gap → IG's minute prices.
Client timings are shrunk (`ig_fast_stream`); every test closes what it opened and leaves no thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from rest_standin import IgRestStandin
from tlcp_standin import TlcpStandin

from fxhub.errors import ConfigError
from fxhub.model import Candle, Quote
from fxhub.settings import Secret
from fxhub.sources.ig.live import LiveIg, LiveIgConfig, candle_from_minute_price
from fxhub.sources.ig.messages import (
    IgEpicError,
    IgStreamError,
    IgUnreachable,
    MarketState,
    MinuteTickCount,
    PriceScale,
)
from fxhub.sources.ig.recording import read_recording
from fxhub.sources.ig.rest import IgRestClient, MinutePrice
from fxhub.sources.ig.streaming import IgStream, StreamOptions

EPIC = "CS.D.EURUSD.MINI.IP"
TICK = f"CHART:{EPIC}:TICK"
MARKET = f"MARKET:{EPIC}"
MINUTE = f"CHART:{EPIC}:1MINUTE"
T0 = datetime(2024, 1, 3, 10, 0, tzinfo=UTC)  # a Wednesday: the FX market is open
SCALE = PriceScale(epic=EPIC, divisor=10000, pip_size=0.0001, reference=1.152)
PASSWORD = "CST-cst-token-0001-abcdef|XST-xst-token-0001-123456"
WAIT_S = 10.0


def ms(seconds: float) -> str:
    """UTM text of T0 + `seconds`."""
    return str(int((T0 + timedelta(seconds=seconds)).timestamp() * 1000))


def ns(seconds: float) -> int:
    return int(ms(seconds)) * 1_000_000


def eventually(predicate: Callable[[], bool], timeout_s: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met within {timeout_s} s")
        time.sleep(0.01)


def connect_subscribed(ig: IgStream, standin: TlcpStandin) -> None:
    """Subscribe EPIC, connect, and wait until the stand-in has the tick subscription."""
    ig.subscribe(EPIC, scale=SCALE)
    ig.connect()
    standin.wait_subscribed(TICK)


class FakeClock:
    """Wall-clock nanoseconds that the test sets."""

    def __init__(self, seconds: float = 0.0) -> None:
        self.now = ns(seconds)

    def set(self, seconds: float) -> None:
        self.now = ns(seconds)

    def __call__(self) -> int:
        return self.now


class Received:
    """Everything a stream hands to its handlers, in order."""

    def __init__(self) -> None:
        self.quotes: list[tuple[Quote, str]] = []
        self.gaps: list[tuple[int, int]] = []
        self.states: list[tuple[str, MarketState]] = []
        self.minutes: list[MinuteTickCount] = []
        self.errors: list[IgStreamError] = []

    def handlers(self) -> dict[str, Any]:
        return {
            "on_quote": lambda quote, epic: self.quotes.append((quote, epic)),
            "on_gap": lambda start, end: self.gaps.append((start, end)),
            "on_market_state": lambda epic, state: self.states.append((epic, state)),
            "on_minute": self.minutes.append,
            "on_error": self.errors.append,
        }


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    """The library's own five daemon threads start at import; a test must not leave any more behind."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 5
    extra = [thread for thread in threading.enumerate() if thread not in before]
    while extra and time.monotonic() < deadline:
        time.sleep(0.05)
        extra = [thread for thread in threading.enumerate() if thread not in before]
    assert extra == []


@pytest.fixture
def received() -> Received:
    return Received()


@pytest.fixture
def stream(received: Received, ig_fast_stream: StreamOptions) -> Iterator[Callable[..., IgStream]]:
    """`stream(standin_url, password=..., clock=...)`: an `IgStream` for account ABC123, closed after."""
    made: list[IgStream] = []

    def make(url: str, *, password: str = PASSWORD, **options: Any) -> IgStream:
        options.setdefault("options", ig_fast_stream)
        made_stream = IgStream(url, "ABC123", Secret(password), **received.handlers(), **options)
        made.append(made_stream)
        return made_stream

    yield make
    for made_stream in made:
        made_stream.close()


# -- what the client sends --------------------------------------------------------------------------


def test_the_client_logs_in_over_a_websocket_and_subscribes_with_control_requests(
    ig_tlcp: Callable[..., TlcpStandin], stream: Callable[..., IgStream], ig_fast_stream: StreamOptions
) -> None:
    standin = ig_tlcp(user="ABC123", password=PASSWORD)
    # The client gives a WebSocket `retry_delay_ms` to open before it falls back to HTTP; the shrunk
    # 200 ms is too short on a loaded machine, so this test keeps the library's default of 4 s.
    ig = stream(standin.url, options=replace(ig_fast_stream, retry_delay_ms=None))
    ig.subscribe(EPIC, scale=SCALE)
    ig.connect()
    standin.wait_subscribed(MARKET)
    standin.wait_subscribed(TICK)
    assert ig.status == "CONNECTED:WS-STREAMING"
    seen = [(request.transport, request.name) for request in standin.requests]
    assert seen[:2] == [("ws", "wsok"), ("ws", "create_session")]
    create = standin.requests[1].params
    assert create["LS_user"] == "ABC123"  # the stand-in checked LS_password too
    adds = {r.params["LS_group"]: r.params for r in standin.requests if r.params.get("LS_op") == "add"}
    assert adds[TICK]["LS_mode"] == "DISTINCT"
    assert adds[TICK]["LS_schema"] == "BID OFR UTM"
    assert adds[TICK]["LS_snapshot"] == "true"
    assert adds[MARKET]["LS_mode"] == "MERGE"
    assert adds[MARKET]["LS_schema"] == "MARKET_STATE UPDATE_TIME"
    assert all(r.transport == "ws" for r in standin.requests)


def test_a_websocket_that_opens_too_slowly_makes_the_client_start_over_http_and_return_to_a_websocket(
    ig_tlcp: Callable[..., TlcpStandin], stream: Callable[..., IgStream], received: Received
) -> None:
    standin = ig_tlcp(first_websocket_delay_s=1.0)  # the shrunk retry delay gives a socket 200 ms
    ig = stream(standin.url)
    connect_subscribed(ig, standin)
    eventually(lambda: ig.status == "CONNECTED:WS-STREAMING")
    standin.push(TICK, {"BID": "11520.1", "OFR": "11520.7", "UTM": ms(5)})
    eventually(lambda: len(received.quotes) == 1)
    assert [(r.transport, r.name) for r in standin.requests[:2]] == [
        ("http", "create_session"),
        ("ws", "wsok"),
    ]
    assert standin.sessions_created == 1  # one session, moved onto the socket once it opened
    assert received.gaps == []
    assert received.errors == []


def test_http_streaming_works_too_when_forced(
    ig_tlcp: Callable[..., TlcpStandin],
    stream: Callable[..., IgStream],
    received: Received,
    ig_fast_stream: StreamOptions,
) -> None:
    standin = ig_tlcp()
    ig = stream(standin.url, options=replace(ig_fast_stream, forced_transport="HTTP-STREAMING"))
    connect_subscribed(ig, standin)
    standin.push(TICK, {"BID": "11520.1", "OFR": "11520.7", "UTM": ms(5)})
    eventually(lambda: len(received.quotes) == 1)
    assert ig.status == "CONNECTED:HTTP-STREAMING"
    assert [(r.transport, r.name) for r in standin.requests[:2]] == [
        ("http", "create_session"),
        ("http", "bind_session"),
    ]


def test_repr_of_a_stream_masks_the_password(
    stream: Callable[..., IgStream], ig_closed_port_url: str
) -> None:
    shown = repr(stream(ig_closed_port_url))
    assert "ABC123" in shown
    assert "cst-token" not in shown


# -- quotes, states, counts -------------------------------------------------------------------------


def test_ticks_become_quotes_through_every_compact_encoding(
    ig_tlcp: Callable[..., TlcpStandin], stream: Callable[..., IgStream], received: Received
) -> None:
    standin = ig_tlcp()
    ig = stream(standin.url)
    connect_subscribed(ig, standin)
    standin.push(TICK, {"BID": "11520.1", "OFR": "11520.7", "UTM": ms(5)})
    standin.push(TICK, {"UTM": ms(6)})  # BID and OFR unchanged: ^2
    standin.push(TICK, {"OFR": "11520.9", "UTM": ms(7)})  # BID unchanged: an empty field
    standin.push(TICK, {"BID": None, "UTM": ms(8)})  # null: #
    standin.push(TICK, {"BID": "", "UTM": ms(9)})  # empty string: $
    standin.push(TICK, {"BID": "11520.3", "UTM": ms(10)})
    eventually(lambda: len(received.quotes) == 4)
    got = [(epic, q.symbol, q.ts_event, round(q.bid, 6), round(q.ask, 6)) for q, epic in received.quotes]
    assert got == [
        (EPIC, "EUR_USD", ns(5), 1.15201, 1.15207),
        (EPIC, "EUR_USD", ns(6), 1.15201, 1.15207),
        (EPIC, "EUR_USD", ns(7), 1.15201, 1.15209),
        (EPIC, "EUR_USD", ns(10), 1.15203, 1.15209),
    ]
    assert ig.stats.empty_ticks == 2
    fields = [line.split(",", 3)[3] for line in standin.sent if line.startswith("U,")]
    assert fields == [
        f"11520.1|11520.7|{ms(5)}",
        f"^2|{ms(6)}",
        f"|11520.9|{ms(7)}",
        f"#||{ms(8)}",
        f"$||{ms(9)}",
        f"11520.3||{ms(10)}",
    ]


def test_percent_encoded_values_are_decoded(
    ig_tlcp: Callable[..., TlcpStandin], stream: Callable[..., IgStream], received: Received
) -> None:
    standin = ig_tlcp()
    standin.encode_all = True
    ig = stream(standin.url)
    connect_subscribed(ig, standin)
    standin.push(TICK, {"BID": "11520.1", "OFR": "11520.7", "UTM": ms(5)})
    eventually(lambda: len(received.quotes) == 1)
    assert received.quotes[0][0].bid == pytest.approx(1.15201)
    assert f"11520%2E1|11520%2E7|{ms(5)}" in standin.sent[-1]


def test_market_state_changes_reach_the_handler(
    ig_tlcp: Callable[..., TlcpStandin], stream: Callable[..., IgStream], received: Received
) -> None:
    standin = ig_tlcp()
    ig = stream(standin.url)
    ig.subscribe(EPIC, scale=SCALE)
    ig.connect()
    standin.wait_subscribed(MARKET)
    for state in ("TRADEABLE", "EDIT", "CLOSED"):
        standin.push(MARKET, {"MARKET_STATE": state, "UPDATE_TIME": "22:00:01"})
    eventually(lambda: len(received.states) == 3)
    assert received.states == [
        (EPIC, MarketState.TRADEABLE),
        (EPIC, MarketState.EDIT),
        (EPIC, MarketState.CLOSED),
    ]


def test_igs_minute_tick_counts_arrive_when_asked_for(
    ig_tlcp: Callable[..., TlcpStandin], stream: Callable[..., IgStream], received: Received
) -> None:
    standin = ig_tlcp()
    ig = stream(standin.url)
    ig.subscribe(EPIC, scale=SCALE, minute_bars=True)
    ig.connect()
    standin.wait_subscribed(MINUTE)
    standin.push(MINUTE, {"UTM": ms(0), "CONS_END": "0", "CONS_TICK_COUNT": "12"})
    standin.push(MINUTE, {"CONS_END": "1", "CONS_TICK_COUNT": "15"})
    eventually(lambda: len(received.minutes) == 2)
    assert [(m.start_ns, m.tick_count, m.complete) for m in received.minutes] == [
        (ns(0), 12, False),
        (ns(0), 15, True),
    ]


def test_updates_the_server_dropped_are_counted_and_logged(
    ig_tlcp: Callable[..., TlcpStandin],
    stream: Callable[..., IgStream],
    received: Received,
    caplog: pytest.LogCaptureFixture,
) -> None:
    standin = ig_tlcp()
    ig = stream(standin.url)
    connect_subscribed(ig, standin)
    standin.push(TICK, {"BID": "11520.1", "OFR": "11520.7", "UTM": ms(5)})
    eventually(lambda: len(received.quotes) == 1)
    with caplog.at_level("WARNING", logger="fxhub.sources.ig.streaming"):
        standin.overflow(TICK, 3)
        eventually(lambda: ig.stats.lost_updates == 3)
    assert "dropped 3 updates of " + TICK in caplog.text
    assert received.gaps == []  # a known count of lost ticks inside the session, not a gap in time


# -- dropped connections ----------------------------------------------------------------------------


def test_a_dropped_socket_is_recovered_over_http_without_losing_an_update_or_reporting_a_gap(
    ig_tlcp: Callable[..., TlcpStandin], stream: Callable[..., IgStream], received: Received
) -> None:
    standin = ig_tlcp()
    ig = stream(standin.url)
    connect_subscribed(ig, standin)
    session = ig.session_id
    standin.push(TICK, {"BID": "11520.1", "OFR": "11520.7", "UTM": ms(5)})
    eventually(lambda: len(received.quotes) == 1)
    standin.drop(lost=[(TICK, {"UTM": ms(6)}), (TICK, {"BID": "11520.2", "UTM": ms(7)})])
    eventually(lambda: len(received.quotes) == 3 and ig.connected)
    standin.push(TICK, {"BID": "11520.4", "UTM": ms(8)})
    eventually(lambda: len(received.quotes) == 4)
    assert [q.ts_event for q, _ in received.quotes] == [ns(5), ns(6), ns(7), ns(8)]
    assert received.gaps == []
    assert ig.session_id == session
    assert ig.stats.recoveries == 1
    assert standin.recoveries == 1
    recovery = next(r for r in standin.requests if "LS_recovery_from" in r.params)
    assert (recovery.transport, recovery.name, recovery.params["LS_polling"]) == (
        "http",
        "bind_session",
        "true",
    )
    eventually(lambda: ig.status == "CONNECTED:WS-STREAMING")  # then back on a WebSocket
    assert (standin.requests[-1].transport, standin.requests[-1].name) == ("ws", "bind_session")


def test_a_session_that_cannot_be_recovered_is_replaced_and_the_gap_reported(
    ig_tlcp: Callable[..., TlcpStandin], stream: Callable[..., IgStream], received: Received
) -> None:
    standin = ig_tlcp()
    clock = FakeClock(0)
    ig = stream(standin.url, clock=clock)
    connect_subscribed(ig, standin)
    first = ig.session_id
    standin.push(TICK, {"BID": "11520.1", "OFR": "11520.7", "UTM": ms(5)})
    eventually(lambda: len(received.quotes) == 1)
    clock.set(200)
    standin.recovery = "refuse"
    standin.drop()
    standin.wait_subscribed(TICK, count=2)
    eventually(lambda: len(received.gaps) == 1)
    assert received.gaps == [(ns(5), ns(200))]
    assert ig.session_id not in (None, first)
    assert standin.refused_recoveries == 1
    create = [r for r in standin.requests if r.name == "create_session"][-1]
    assert create.params["LS_old_session"] == first
    # The new subscription's snapshot repeats the last tick: dropped, not counted twice.
    eventually(lambda: ig.stats.duplicate_ticks == 1)
    standin.push(TICK, {"BID": "11520.5", "UTM": ms(201)})
    eventually(lambda: len(received.quotes) == 2)
    assert received.quotes[-1][0].ts_event == ns(201)


# -- refusals ---------------------------------------------------------------------------------------


def test_conerr_65_says_to_use_the_client_library_that_speaks_tlcp_2_4_0(
    ig_tlcp: Callable[..., TlcpStandin], stream: Callable[..., IgStream]
) -> None:
    # A server that does not speak the client's protocol version answers CONERR,65 — as IG answers
    # lightstreamer-client-lib 2.x (TLCP-2.5.0).
    standin = ig_tlcp(accepted_protocol="TLCP-2.3.0")
    ig = stream(standin.url)
    ig.subscribe(EPIC, scale=SCALE)
    with pytest.raises(IgStreamError) as caught:
        ig.connect()
    assert caught.value.code == 65
    message = str(caught.value)
    assert "refused the protocol version (CONERR 65: Unsupported protocol version)" in message
    assert "lightstreamer-client-lib==1.0.3" in message
    assert "TLCP-2.4.0" in message
    assert "CONERR,65,Unsupported protocol version" in standin.sent
    eventually(lambda: ig.status == "DISCONNECTED")


def test_refused_stream_credentials_raise_an_error_without_the_password(
    ig_tlcp: Callable[..., TlcpStandin], stream: Callable[..., IgStream]
) -> None:
    standin = ig_tlcp(user="ABC123", password=PASSWORD)
    stale = "CST-expired-0001|XST-expired-0002"
    ig = stream(standin.url, password=stale)
    with pytest.raises(IgStreamError, match="refused account 'ABC123' with the session tokens") as caught:
        ig.connect()
    assert caught.value.code == 1
    assert "expired-000" not in str(caught.value)


def test_an_unreachable_stream_server_raises_ig_unreachable(
    stream: Callable[..., IgStream], ig_closed_port_url: str
) -> None:
    ig = stream(ig_closed_port_url)
    with pytest.raises(IgUnreachable, match=r"no connection to IG's streaming server .* within 1 s"):
        ig.connect(timeout_s=1.0)


def test_a_refused_subscription_is_reported_with_its_epic(
    ig_tlcp: Callable[..., TlcpStandin], stream: Callable[..., IgStream], received: Received
) -> None:
    standin = ig_tlcp(unknown_items=frozenset({TICK}))
    ig = stream(standin.url)
    ig.subscribe(EPIC, scale=SCALE)
    ig.connect()
    eventually(lambda: len(received.errors) == 1)
    assert "tick subscription of epic 'CS.D.EURUSD.MINI.IP' (code 21: Bad Group name)" in str(
        received.errors[0]
    )


def test_an_epic_outside_the_instrument_table_cannot_be_subscribed(
    stream: Callable[..., IgStream], ig_closed_port_url: str
) -> None:
    with pytest.raises(IgEpicError, match=r"'IX\.D\.FTSE\.DAILY\.IP' is not in the instrument table"):
        stream(ig_closed_port_url).subscribe("IX.D.FTSE.DAILY.IP")


# -- LiveIg -----------------------------------------------------------------------------------------


def test_candle_from_minute_price_takes_the_mid_and_igs_count_and_is_never_complete() -> None:
    price = MinutePrice(
        start=T0,
        bid=(11521.0, 11524.0, 11520.0, 11522.0),
        ask=(11521.6, 11524.6, 11520.6, 11522.6),
        last_traded_volume=37,
    )
    candle = candle_from_minute_price(price, symbol="EUR_USD", epic=EPIC, scale=SCALE)
    assert candle is not None
    assert (candle.open, candle.high, candle.low, candle.close) == pytest.approx(
        (1.15213, 1.15243, 1.15203, 1.15223)
    )
    assert (candle.volume, candle.quote_count, candle.complete, candle.instrument) == (37, None, False, EPIC)
    silent = MinutePrice(start=T0, bid=price.bid, ask=None, last_traded_volume=None)
    quiet = candle_from_minute_price(silent, symbol="EUR_USD", epic=EPIC, scale=SCALE)
    assert quiet is not None
    assert quiet.volume == 0.0
    assert quiet.close == pytest.approx(1.15220)
    empty = MinutePrice(start=T0, bid=None, ask=None, last_traded_volume=5)
    assert candle_from_minute_price(empty, symbol="EUR_USD", epic=EPIC, scale=SCALE) is None


def test_live_ig_refuses_two_epics_of_one_pair(ig_rest_client: Callable[..., IgRestClient]) -> None:
    config = LiveIgConfig(epics=(EPIC, "CS.D.EURUSD.CFD.IP"))
    with pytest.raises(ConfigError, match="both quote EUR_USD"):
        LiveIg(ig_rest_client(), lambda candle: None, config)


@pytest.fixture
def live(
    ig_rest: IgRestStandin,
    ig_tlcp: Callable[..., TlcpStandin],
    ig_rest_client: Callable[..., IgRestClient],
    ig_fast_stream: StreamOptions,
) -> Iterator[Callable[..., tuple[LiveIg, TlcpStandin, list[Candle]]]]:
    """`live(clock, **config)`: a started `LiveIg` on both stand-ins, its candles, closed after."""
    made: list[LiveIg] = []

    def start(clock: FakeClock, **config: Any) -> tuple[LiveIg, TlcpStandin, list[Candle]]:
        tlcp = ig_tlcp(user="ABC123")
        ig_rest.lightstreamer_endpoint = tlcp.url
        candles: list[Candle] = []
        live_ig = LiveIg(
            ig_rest_client(),
            candles.append,
            LiveIgConfig(epics=(EPIC,), stream=ig_fast_stream, **config),
            clock=clock,
        )
        made.append(live_ig)
        live_ig.start(timeout_s=WAIT_S)
        tlcp.wait_subscribed(TICK)
        return live_ig, tlcp, candles

    yield start
    for live_ig in made:
        live_ig.close()


def tick(seconds: float, bid: float) -> dict[str, str | None]:
    return {"BID": f"{bid:.1f}", "OFR": f"{bid + 0.6:.1f}", "UTM": ms(seconds)}


def test_live_ig_replaces_the_minutes_of_a_lost_session_with_igs_minute_prices(
    ig_rest: IgRestStandin, live: Callable[..., tuple[LiveIg, TlcpStandin, list[Candle]]]
) -> None:
    minute = timedelta(minutes=1)
    ig_rest.add_minute(
        EPIC, T0 + minute, (11521.0, 11524.0, 11520.0, 11522.0), (11521.6, 11524.6, 11520.6, 11522.6), 37
    )
    ig_rest.add_minute(
        EPIC,
        T0 + 2 * minute,
        (11522.0, 11523.0, 11521.0, 11522.5),
        (11522.6, 11523.6, 11521.6, 11523.1),
        None,
    )
    clock = FakeClock(0)
    live_ig, tlcp, candles = live(clock)
    for seconds, bid in ((5, 11520.1), (40, 11520.1), (70, 11521.0)):
        tlcp.push(TICK, tick(seconds, bid))
    eventually(lambda: len(candles) == 1)  # 10:00 closed by the 10:01:10 tick
    clock.set(200)  # the subscriptions come back at 10:03:20
    tlcp.recovery = "refuse"
    tlcp.drop(lost=[(TICK, tick(90, 11521.5)), (TICK, tick(135, 11522.0))])  # 10:01:30 lost for good
    eventually(lambda: len(live_ig.stats.gaps) == 1 and live_ig.stats.quotes == 4)  # 10:02:15 by snapshot
    for seconds, bid in ((205, 11522.4), (230, 11522.8), (245, 11523.0)):
        tlcp.push(TICK, tick(seconds, bid))
    eventually(lambda: live_ig.stats.backfilled_candles == 2)
    live_ig.wait_idle()
    live_ig.close()

    assert live_ig.stats.gaps == [(ns(70), ns(200))]
    by_minute = {int((c.timestamp - T0) / minute): c for c in candles}  # the hub keeps the last
    assert sorted(by_minute) == [0, 1, 2, 3, 4]
    assert (by_minute[0].volume, by_minute[0].quote_count, by_minute[0].complete) == (2, 2, None)
    assert by_minute[0].close == pytest.approx(1.15204)
    backfilled = by_minute[1]
    assert (backfilled.volume, backfilled.quote_count, backfilled.complete) == (37, None, False)
    assert (backfilled.open, backfilled.high, backfilled.low, backfilled.close) == pytest.approx(
        (1.15213, 1.15243, 1.15203, 1.15223)
    )
    assert (by_minute[2].volume, by_minute[2].complete) == (0, False)  # IG sent no lastTradedVolume
    assert by_minute[2].close == pytest.approx(1.15228)
    assert (by_minute[3].volume, by_minute[3].quote_count, by_minute[3].complete) == (2, 2, False)  # ours
    assert (by_minute[4].volume, by_minute[4].complete) == (1, False)  # cut short by close()
    # Nothing of the gap minutes left before the backfill did: each went out once, marked incomplete.
    gap_candles = [c for c in candles if T0 + minute <= c.timestamp <= T0 + 3 * minute]
    assert [c.complete for c in gap_candles] == [False, False, False]
    request = next(r for r in ig_rest.requests if r.path == f"/prices/{EPIC}")
    assert request.query["from"] == "2024-01-03T10:01:00"


def test_live_ig_without_igs_prices_sends_the_gap_minutes_it_has_marked_incomplete(
    ig_rest: IgRestStandin, live: Callable[..., tuple[LiveIg, TlcpStandin, list[Candle]]]
) -> None:
    clock = FakeClock(0)
    live_ig, tlcp, candles = live(clock)
    tlcp.push(TICK, tick(5, 11520.1))
    tlcp.push(TICK, tick(70, 11521.0))
    eventually(lambda: len(candles) == 1)
    del ig_rest.markets[EPIC]  # /prices now answers 404
    clock.set(130)
    tlcp.recovery = "refuse"
    tlcp.drop()
    eventually(lambda: len(live_ig.stats.gaps) == 1)
    tlcp.push(TICK, tick(190, 11521.5))
    eventually(lambda: live_ig.stats.backfill_failures == 1)
    live_ig.wait_idle()
    assert [(c.timestamp, c.volume, c.complete) for c in candles[1:]] == [
        (T0 + timedelta(minutes=1), 1, False),
        (T0 + timedelta(minutes=2), 0, False),
    ]


def test_live_ig_asks_ig_only_for_the_last_minutes_of_a_long_gap(
    ig_rest: IgRestStandin, live: Callable[..., tuple[LiveIg, TlcpStandin, list[Candle]]]
) -> None:
    clock = FakeClock(0)
    live_ig, tlcp, candles = live(clock, backfill_max_minutes=2)
    tlcp.push(TICK, tick(5, 11520.1))
    tlcp.push(TICK, tick(70, 11521.0))
    eventually(lambda: len(candles) == 1)
    clock.set(250)  # minutes 10:01 to 10:04 lost
    tlcp.recovery = "refuse"
    tlcp.drop()
    eventually(lambda: len(live_ig.stats.gaps) == 1)
    tlcp.push(TICK, tick(310, 11521.5))
    eventually(lambda: any(r.path == f"/prices/{EPIC}" for r in ig_rest.requests))
    live_ig.wait_idle()
    request = next(r for r in ig_rest.requests if r.path == f"/prices/{EPIC}")
    assert request.query["from"] == "2024-01-03T10:03:00"
    assert [c.timestamp.minute for c in candles[1:]] == [1, 2, 3, 4]  # ours, marked incomplete
    assert {c.complete for c in candles[1:]} == {False}


def test_live_ig_records_every_tick_it_receives_in_chunk_files(
    tmp_path: Path, live: Callable[..., tuple[LiveIg, TlcpStandin, list[Candle]]]
) -> None:
    clock = FakeClock(0)
    live_ig, tlcp, _candles = live(clock, record_dir=tmp_path / "rec", record_chunk_ticks=2)
    bids = (11520.1, 11520.3, 11520.2, 11520.6, 11520.4)
    for seconds, bid in enumerate(bids, start=1):
        tlcp.push(TICK, tick(seconds, bid))
    eventually(lambda: live_ig.stats.quotes == len(bids))
    live_ig.close()
    files = sorted(live_ig.stats.recording_files)
    assert len(files) == 3
    assert all(path.parent == tmp_path / "rec" and path.name.endswith(".csv.gz") for path in files)
    ticks = [t for path in files for t in read_recording(path)]
    assert [t.utm_ms for t in ticks] == [int(ms(s)) for s in range(1, 6)]
    assert {(t.epic, t.pair) for t in ticks} == {(EPIC, "EUR_USD")}
    assert [t.bid for t in ticks] == pytest.approx([bid / 10000 for bid in bids])
    assert ticks[0].offer == pytest.approx(1.15207)
    assert live_ig.stats.recorded_ticks == 5


def test_live_ig_logs_in_again_when_the_stream_refuses_expired_tokens(
    ig_rest: IgRestStandin, live: Callable[..., tuple[LiveIg, TlcpStandin, list[Candle]]]
) -> None:
    clock = FakeClock(0)
    live_ig, tlcp, _candles = live(clock)
    assert tlcp.sessions_created == 1
    ig_rest.expire_tokens()
    tlcp.password = "CST-cst-token-0002-abcdef|XST-xst-token-0002-123456"  # only the next login's tokens
    tlcp.recovery = "refuse"
    tlcp.drop()  # the new session is refused (CONERR,1), LiveIg logs in and reconnects
    tlcp.wait_subscribed(TICK, count=2)
    eventually(lambda: live_ig.stream is not None and live_ig.stream.connected)
    assert (ig_rest.logins, live_ig.stats.logins) == (2, 2)
    refusals = [line for line in tlcp.sent if line.startswith("CONERR,1,")]
    assert len(refusals) == 1
    tlcp.push(TICK, tick(10, 11520.1))
    eventually(lambda: live_ig.stats.quotes == 1)


# -- the first minute after a start -------------------------------------------------------------------

MINUTE_BID = (11520.0, 11524.0, 11519.0, 11521.0)
MINUTE_ASK = (11520.6, 11524.6, 11519.6, 11521.6)


def test_live_ig_started_mid_minute_replaces_that_minute_with_igs_minute_price(
    ig_rest: IgRestStandin, live: Callable[..., tuple[LiveIg, TlcpStandin, list[Candle]]]
) -> None:
    ig_rest.add_minute(EPIC, T0, MINUTE_BID, MINUTE_ASK, 42)
    clock = FakeClock(30)  # (re)started at 10:00:30: the stream has nothing of 10:00:00–10:00:30
    live_ig, tlcp, candles = live(clock)
    # IG's last tick, from 09:59:50, comes first (the subscription's snapshot): it builds no candle.
    for seconds, bid in ((-10, 11519.0), (31, 11520.1), (50, 11520.3), (70, 11521.0)):
        tlcp.push(TICK, tick(seconds, bid))
    eventually(lambda: live_ig.stats.backfilled_candles == 1)
    live_ig.wait_idle()
    live_ig.close()

    assert live_ig.stats.quotes == 4
    assert live_ig.stats.gaps == [(ns(0), ns(30))]
    assert [c.timestamp for c in candles] == [T0, T0 + timedelta(minutes=1)]
    first, cut = candles
    assert (first.volume, first.quote_count, first.complete) == (42, None, False), "IG's whole minute"
    assert (first.open, first.close) == pytest.approx((1.15203, 1.15213))
    assert (cut.volume, cut.complete) == (1, False)  # cut short by close()
    (request,) = [r for r in ig_rest.requests if r.path == f"/prices/{EPIC}"]
    assert request.query["from"] == "2024-01-03T10:00:00"


def test_live_ig_started_mid_minute_without_backfill_sends_that_minute_marked_incomplete(
    ig_rest: IgRestStandin, live: Callable[..., tuple[LiveIg, TlcpStandin, list[Candle]]]
) -> None:
    clock = FakeClock(30)
    live_ig, tlcp, candles = live(clock, backfill=False)
    for seconds, bid in ((31, 11520.1), (50, 11520.3), (70, 11521.0)):
        tlcp.push(TICK, tick(seconds, bid))
    eventually(lambda: len(candles) == 1)
    live_ig.wait_idle()
    assert [(c.timestamp, c.volume, c.quote_count, c.complete) for c in candles] == [(T0, 2, 2, False)]
    assert live_ig.stats.gaps == [(ns(0), ns(30))]
    assert not any(r.path.startswith("/prices/") for r in ig_rest.requests)


# Seconds after T0 (Wednesday 10:00 UTC): Friday 22:10:30 UTC is after the FX close (17:00 New York),
# Friday 21:59:58 is IG's last tick of the week, Sunday 22:00:05 comes just after the open.
FRIDAY_CLOSED, FRIDAY_LAST, SUNDAY_OPEN = 216_630, 215_998, 388_805


@pytest.mark.parametrize(
    ("started", "ticks"),
    [
        pytest.param(60, (61, 90, 125), id="on-a-minute-boundary"),
        pytest.param(30, (70, 100, 125), id="mid-minute-but-quiet-until-the-next"),
        pytest.param(
            FRIDAY_CLOSED,
            (FRIDAY_LAST, SUNDAY_OPEN, SUNDAY_OPEN + 35, SUNDAY_OPEN + 60),
            id="market-closed",
        ),
    ],
)
def test_live_ig_started_on_a_boundary_or_before_any_quote_of_its_minute_records_no_gap(
    ig_rest: IgRestStandin,
    live: Callable[..., tuple[LiveIg, TlcpStandin, list[Candle]]],
    started: int,
    ticks: tuple[int, ...],
) -> None:
    clock = FakeClock(started)
    live_ig, tlcp, candles = live(clock)
    for seconds in ticks:
        tlcp.push(TICK, tick(seconds, 11520.1))
    eventually(lambda: len(candles) == 1)
    live_ig.wait_idle()
    first_minute = T0 + timedelta(seconds=ticks[-2]) - timedelta(seconds=ticks[-2] % 60)
    assert [(c.timestamp, c.volume, c.quote_count, c.complete) for c in candles] == [
        (first_minute, 2, 2, None)
    ]
    assert live_ig.stats.gaps == []
    assert not any(r.path.startswith("/prices/") for r in ig_rest.requests)
