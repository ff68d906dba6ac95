"""The IG stream: quotes, market states and IG's minute tick counts over Lightstreamer.

`IgStream` is a thin layer over ``lightstreamer.client.LightstreamerClient`` (lightstreamer-client-lib
1.0.3, the last that speaks TLCP-2.4.0: IG refuses 2.x's TLCP-2.5.0 with ``CONERR,65``). The client opens
a WebSocket at ``{endpoint}/lightstreamer`` (HTTP streaming only when WebSockets fail), logs in with the
account id and ``CST-<cst>|XST-<xst>``, and per epic subscribes to

- ``CHART:{epic}:TICK`` (DISTINCT; BID, OFR, UTM): every quote update → `Quote` → ``on_quote``;
- ``MARKET:{epic}`` (MERGE; MARKET_STATE, UPDATE_TIME) → ``on_market_state``;
- optionally ``CHART:{epic}:1MINUTE`` (MERGE; UTM, CONS_END, CONS_TICK_COUNT) → ``on_minute``.

Dropped connections are the client library's job: it first recovers the *same* session (it asks the
server to resend what it missed, so nothing is lost), and when the server cannot do that it opens a new
session and subscribes again. Updates between the last one received and the new subscriptions are then
lost: `IgStream` reports that interval once every tick subscription is back, as ``on_gap(start_ns,
end_ns)`` — start is the UTM of the last tick received (or the start of the lost session), end is the
clock when the subscriptions were back. Snapshot ticks that repeat what was already received are dropped.

The library calls every listener on one thread of its own and swallows their exceptions, so the
handlers are called inside a guard that logs what they raise. Its five worker threads are started
when it is imported and live as long as the process (daemon threads); `close` ends the connection.

TLS: without an installed ``ssl.SSLContext`` 1.0.3 hands ``ssl=None`` to aiohttp's ``ws_connect``, which
aiohttp (3.10 and later) deprecates; where warnings are errors that fails every WebSocket and the
client silently falls back to HTTP streaming. `IgStream` therefore installs the default verifying
context (what ``ssl=True`` means) once per process, unless the application installed its own.
"""

from __future__ import annotations

import functools
import logging
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Final

from lightstreamer.client import LightstreamerClient, Subscription

from fxhub.errors import DataFormatError
from fxhub.instruments import InstrumentTable, load_instruments
from fxhub.model import Quote
from fxhub.settings import Secret
from fxhub.sources.ig.messages import (
    MARKET_FIELDS,
    MINUTE_FIELDS,
    TICK_FIELDS,
    IgEpicError,
    IgStreamError,
    IgUnreachable,
    MarketState,
    MinuteTickCount,
    PriceScale,
    market_item,
    market_state_from_fields,
    minute_item,
    minute_tick_count_from_fields,
    quote_from_tick,
    tick_item,
)
from fxhub.sources.ig.stream_listeners import ClientEvents, ItemEvents, StreamedEpic

__all__ = [
    "CLOSE_TIMEOUT_SECONDS",
    "CONNECT_TIMEOUT_SECONDS",
    "REQUIRED_CLIENT_VERSION",
    "IgStream",
    "StreamOptions",
    "StreamStats",
]

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT_SECONDS: Final = 20.0
CLOSE_TIMEOUT_SECONDS: Final = 5.0
REQUIRED_CLIENT_VERSION: Final = "1.0.3"
_PROTOCOL_REFUSED: Final = 65
_CREDENTIALS_REFUSED: Final = 1

QuoteHandler = Callable[[Quote, str], None]
GapHandler = Callable[[int, int], None]
MarketStateHandler = Callable[[str, MarketState], None]
MinuteHandler = Callable[[MinuteTickCount], None]
ErrorHandler = Callable[[IgStreamError], None]
StatusHandler = Callable[[str], None]


@functools.cache
def _install_default_tls_context() -> None:
    """Give the library the default verifying SSL context, once per process (see the module doc)."""
    try:
        LightstreamerClient.setTrustManagerFactory(ssl.create_default_context())
    except Exception as exc:  # the library's IllegalStateException
        if "already installed" not in str(exc):
            raise
        logger.debug("lightstreamer-client-lib already has an SSL context; keeping it")


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamOptions:
    """Connection settings handed to the Lightstreamer client; None keeps the library's default.

    Times in milliseconds (library defaults: retry 4000, first retry ≤ 100, recovery 15000, stalled
    2000, reconnect 3000; keepalive as the server says). `forced_transport` None lets the client pick
    (WebSocket first); ``"WS-STREAMING"`` or ``"HTTP-STREAMING"`` pin one. `tick_snapshot` asks for
    IG's last tick(s) on (re)subscription; repeats of ticks already received are dropped.
    """

    retry_delay_ms: int | None = None
    first_retry_max_delay_ms: int | None = None
    session_recovery_timeout_ms: int | None = None
    stalled_timeout_ms: int | None = None
    reconnect_timeout_ms: int | None = None
    keepalive_ms: int | None = None
    forced_transport: str | None = None
    tick_snapshot: bool = True


@dataclass(slots=True)
class StreamStats:
    """Counts since the stream was made; read them from any thread."""

    quotes: int = 0
    empty_ticks: int = 0  # updates without BID, OFR or UTM (closed market)
    duplicate_ticks: int = 0  # snapshot ticks already received
    malformed: int = 0
    lost_updates: int = 0  # dropped by the server inside a session (OV): tick counts are low then
    handler_errors: int = 0
    sessions: int = 0
    recoveries: int = 0
    gaps: list[tuple[int, int]] = field(default_factory=list)
    last_status: str = "DISCONNECTED"


class IgStream:
    """One Lightstreamer connection to IG with the subscriptions of a set of epics.

    Call `subscribe` for each epic (before or after `connect`), `connect` to open the session (it waits
    until connected and raises `IgStreamError` when the server refuses, `IgUnreachable` after the
    timeout), and `close` to end it. Handlers run on the library's listener thread.
    """

    def __init__(
        self,
        endpoint: str,
        account_id: str,
        password: Secret,
        *,
        on_quote: QuoteHandler,
        on_gap: GapHandler | None = None,
        on_market_state: MarketStateHandler | None = None,
        on_minute: MinuteHandler | None = None,
        on_error: ErrorHandler | None = None,
        on_status: StatusHandler | None = None,
        options: StreamOptions | None = None,
        table: InstrumentTable | None = None,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.endpoint = endpoint
        self.account_id = account_id
        self.options = options if options is not None else StreamOptions()
        self.stats = StreamStats()
        self._on_quote = on_quote
        self._on_gap = on_gap
        self._on_market_state = on_market_state
        self._on_minute = on_minute
        self._on_error = on_error
        self._on_status_change = on_status
        self._table = table if table is not None else load_instruments()
        self._clock = clock
        self._epics: dict[str, StreamedEpic] = {}
        self._changed = threading.Condition()
        self._error: IgStreamError | None = None
        self._session_id: str | None = None
        self._session_started_ns: int | None = None
        self._last_tick_ns: int | None = None
        self._last_tick_by_epic: dict[str, int] = {}
        self._gap_start_ns: int | None = None
        self._awaiting: set[str] = set()
        self._closed = False
        _install_default_tls_context()
        self._client = LightstreamerClient(endpoint, None)
        self._client.connectionDetails.setUser(account_id)
        self._client.connectionDetails.setPassword(password.reveal())
        self._apply_options()
        self._events = ClientEvents(on_status=self._on_status, on_server_error=self._on_server_error)
        self._client.addListener(self._events)

    def __repr__(self) -> str:
        return (
            f"IgStream(endpoint={self.endpoint!r}, account_id={self.account_id!r}, password=Secret('****'), "
            f"epics={sorted(self._epics)}, status={self.status!r})"
        )

    def _apply_options(self) -> None:
        options, target = self.options, self._client.connectionOptions
        setters: list[tuple[int | None, Callable[[int], None]]] = [
            (options.retry_delay_ms, target.setRetryDelay),
            (options.first_retry_max_delay_ms, target.setFirstRetryMaxDelay),
            (options.session_recovery_timeout_ms, target.setSessionRecoveryTimeout),
            (options.stalled_timeout_ms, target.setStalledTimeout),
            (options.reconnect_timeout_ms, target.setReconnectTimeout),
            (options.keepalive_ms, target.setKeepaliveInterval),
        ]
        for value, setter in setters:
            if value is not None:
                setter(value)
        if options.forced_transport is not None:
            target.setForcedTransport(options.forced_transport)

    # -- public ------------------------------------------------------------------------------------

    @property
    def status(self) -> str:
        return str(self._client.getStatus())

    @property
    def connected(self) -> bool:
        return self.status.startswith("CONNECTED:")

    @property
    def session_id(self) -> str | None:
        return self._session_id

    @property
    def epics(self) -> tuple[str, ...]:
        return tuple(self._epics)

    def subscribe(self, epic: str, *, scale: PriceScale | None = None, minute_bars: bool = False) -> None:
        """Subscribe to the ticks and the market state of `epic` (and IG's minute counts if asked)."""
        if epic in self._epics:
            return
        instrument = self._table.by_epic(epic)
        if instrument is None:
            raise IgEpicError(
                f"epic {epic!r} is not in the instrument table; add it to ig_epics of its pair in "
                f"instruments.toml (known pairs: {', '.join(self._table.pairs)})"
            )
        entry = StreamedEpic(epic=epic, symbol=instrument.pair, scale=scale)
        ticks = Subscription("DISTINCT", [tick_item(epic)], list(TICK_FIELDS))
        ticks.setRequestedSnapshot("yes" if self.options.tick_snapshot else "no")
        market = Subscription("MERGE", [market_item(epic)], list(MARKET_FIELDS))
        market.setRequestedSnapshot("yes")
        entry.subscriptions = [(ticks, "tick"), (market, "market")]
        if minute_bars:
            minutes = Subscription("MERGE", [minute_item(epic)], list(MINUTE_FIELDS))
            minutes.setRequestedSnapshot("yes")
            entry.subscriptions.append((minutes, "minute"))
        self._epics[epic] = entry
        for subscription, kind in entry.subscriptions:
            subscription.addListener(
                ItemEvents(
                    on_subscribed=functools.partial(self._on_subscribed, entry, kind),
                    on_error=functools.partial(self._on_subscription_error, entry, kind),
                    on_update=functools.partial(self._on_update, entry, kind),
                    on_lost=self._on_lost_updates,
                )
            )
            self._client.subscribe(subscription)

    def set_password(self, password: Secret) -> None:
        """New session tokens for the next session the client opens (after a REST login)."""
        self._client.connectionDetails.setPassword(password.reveal())

    def connect(self, timeout_s: float = CONNECT_TIMEOUT_SECONDS) -> None:
        """Open the session and wait until it is connected.

        Raises `IgStreamError` when the server refuses (credentials, protocol version) and
        `IgUnreachable` when no connection came within `timeout_s` (the attempt is then stopped).
        """
        with self._changed:
            self._error = None
            self._closed = False
        self._client.connect()
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while not self.connected and self._error is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._changed.wait(min(left, 0.1))
            error = self._error
        if error is not None:
            raise error
        if not self.connected:
            status = self.status
            self._client.disconnect()
            raise IgUnreachable(
                f"no connection to IG's streaming server {self.endpoint} within {timeout_s:g} s "
                f"(last status {status}); check the network and the lightstreamerEndpoint of the login"
            )

    def reconnect(self) -> None:
        """Ask the client to connect again (after `set_password`), without waiting."""
        with self._changed:
            self._error = None
            self._closed = False
        self._client.connect()

    def close(self, timeout_s: float = CLOSE_TIMEOUT_SECONDS) -> None:
        """Unsubscribe, end the session and wait until the client says DISCONNECTED."""
        with self._changed:
            if self._closed and self.status == "DISCONNECTED":
                return
            self._closed = True
        for entry in self._epics.values():
            for subscription, _kind in entry.subscriptions:
                if subscription.isActive():
                    self._client.unsubscribe(subscription)
        self._client.disconnect()
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while self.status != "DISCONNECTED" and time.monotonic() < deadline:
                self._changed.wait(0.05)
        if self.status != "DISCONNECTED":
            logger.warning("IG stream still %s %.1f s after disconnect", self.status, timeout_s)

    def __enter__(self) -> IgStream:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- listener side (the library's thread) ------------------------------------------------------

    def _guard(self, what: str, call: Callable[[], None]) -> None:
        try:
            call()
        except Exception:
            self.stats.handler_errors += 1
            logger.exception("IG stream: the %s handler failed", what)

    def _on_status(self, status: str) -> None:
        logger.info("IG stream status: %s", status)
        previous, self.stats.last_status = self.stats.last_status, status
        if status.startswith("CONNECTED:"):
            session_id = self._client.connectionDetails.getSessionId()
            if session_id != self._session_id:
                self._on_new_session(session_id)
            elif previous == "DISCONNECTED:TRYING-RECOVERY":
                logger.info("IG stream: session %s recovered, nothing lost", session_id)
        elif status == "DISCONNECTED:TRYING-RECOVERY":
            self.stats.recoveries += 1
        with self._changed:
            self._changed.notify_all()
        if self._on_status_change is not None:
            handler = self._on_status_change
            self._guard("status", lambda: handler(status))

    def _on_new_session(self, session_id: str | None) -> None:
        previous = self._session_id
        self.stats.sessions += 1
        if previous is not None:
            start = self._last_tick_ns if self._last_tick_ns is not None else self._session_started_ns
            self._gap_start_ns = start
            self._awaiting = set(self._epics)
            logger.warning(
                "IG stream: new session %s replaces %s, which could not be recovered; updates after "
                "the last one received are lost until the subscriptions are back",
                session_id,
                previous,
            )
        self._session_id = session_id
        self._session_started_ns = self._clock()

    def _on_subscribed(self, epic: StreamedEpic, kind: str) -> None:
        logger.debug("IG stream: subscribed to %s (%s)", epic.epic, kind)
        if kind == "tick" and epic.epic in self._awaiting:
            self._awaiting.discard(epic.epic)
            if not self._awaiting:
                self._report_gap()

    def _report_gap(self) -> None:
        start, end = self._gap_start_ns, self._clock()
        self._gap_start_ns = None
        if start is None or end <= start:
            return
        self.stats.gaps.append((start, end))
        logger.warning(
            "IG stream: gap in the data from %d to %d ns (%.1f s)", start, end, (end - start) / 1e9
        )
        if self._on_gap is not None:
            handler = self._on_gap
            self._guard("gap", lambda: handler(start, end))

    def _on_server_error(self, code: int, message: str | None) -> None:
        if code == _PROTOCOL_REFUSED:
            text = (
                f"IG's streaming server {self.endpoint} refused the protocol version (CONERR {code}: "
                f"{message}). fxhub needs lightstreamer-client-lib=={REQUIRED_CLIENT_VERSION}, which "
                f"speaks TLCP-2.4.0 (the 2.x clients speak TLCP-2.5.0, which IG refuses); installed is "
                f"{LightstreamerClient.LIB_VERSION}. Run: pip install "
                f"'lightstreamer-client-lib=={REQUIRED_CLIENT_VERSION}'"
            )
        elif code == _CREDENTIALS_REFUSED:
            text = (
                f"IG's streaming server {self.endpoint} refused account {self.account_id!r} with the "
                f"session tokens (code {code}: {message}); log in again over REST for fresh tokens"
            )
        else:
            text = f"IG's streaming server {self.endpoint} ended the session (code {code}: {message})"
        error = IgStreamError(text, code=code)
        logger.error("%s", text)
        with self._changed:
            self._error = error
            self._changed.notify_all()
        if self._on_error is not None:
            handler = self._on_error
            self._guard("error", lambda: handler(error))

    def _on_subscription_error(self, epic: StreamedEpic, kind: str, code: int, message: str | None) -> None:
        error = IgStreamError(
            f"IG refused the {kind} subscription of epic {epic.epic!r} (code {code}: {message}); check that "
            f"the epic exists and that the account may stream it",
            code=code,
        )
        logger.error("%s", error)
        if kind == "tick" and epic.epic in self._awaiting:
            self._awaiting.discard(epic.epic)
            if not self._awaiting:
                self._report_gap()
        if self._on_error is not None:
            handler = self._on_error
            self._guard("error", lambda: handler(error))

    def _on_lost_updates(self, item: str, lost: int) -> None:
        self.stats.lost_updates += lost
        logger.warning("IG stream: the server dropped %d updates of %s (its buffer overflowed)", lost, item)

    def _on_update(self, epic: StreamedEpic, kind: str, update: Any) -> None:
        fields: dict[str, str | None] = dict(update.getFields())
        try:
            if kind == "tick":
                self._on_tick(epic, fields, bool(update.isSnapshot()))
            elif kind == "market":
                state = market_state_from_fields(fields, epic=epic.epic)
                if state is not None and self._on_market_state is not None:
                    on_state = self._on_market_state
                    self._guard("market state", lambda: on_state(epic.epic, state))
            else:
                count = minute_tick_count_from_fields(fields, epic=epic.epic)
                if count is not None and self._on_minute is not None:
                    on_minute = self._on_minute
                    self._guard("minute", lambda: on_minute(count))
        except DataFormatError as exc:
            self.stats.malformed += 1
            logger.warning("IG stream: malformed update skipped: %s", exc)

    def _on_tick(self, epic: StreamedEpic, fields: dict[str, str | None], snapshot: bool) -> None:
        quote = quote_from_tick(fields, epic=epic.epic, symbol=epic.symbol, scale=epic.scale)
        if quote is None:
            self.stats.empty_ticks += 1
            return
        last = self._last_tick_by_epic.get(epic.epic)
        if snapshot and last is not None and quote.ts_event <= last:
            self.stats.duplicate_ticks += 1
            return
        self._last_tick_by_epic[epic.epic] = max(last or quote.ts_event, quote.ts_event)
        self._last_tick_ns = max(self._last_tick_ns or quote.ts_event, quote.ts_event)
        self.stats.quotes += 1
        on_quote = self._on_quote
        self._guard("quote", lambda: on_quote(quote, epic.epic))
