"""One Databento live session: configuration, connecting, authenticating, subscribing, and replays.

`LiveSession` wraps one `databento.Live` client (reconnect policy "reconnect": after an abrupt drop the
client reconnects and resubscribes by itself and reports the gap; after a clean EOF the session ends and
whoever runs it must start a new one). `replay_records` and `historical_records` fetch the records of a
past time range, for backfilling a gap. Errors from the client are translated into fxhub errors that
say what to do; the API key is never printed.

What the client does on the wire (databento 0.88, `databento/live/`): text lines `key=value|...` until
authenticated (greeting `lsg_version`, challenge `cram`, `auth=sha256(cram|key)-<last 5 of key>` with
`dataset`, `encoding=dbn`, `compression=none`, `ts_out=0`, `heartbeat_interval_s` (30 unless set),
`client`; answer `success=1|session_id=...` or `success=0|error=...`), subscription lines and
`start_session=0`, then DBN. Record callbacks run on the client's event-loop thread.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal, cast

import databento as db
import databento_dbn as dbn
import pandas as pd

from fxhub.core.bars import BarSpec
from fxhub.errors import FxhubError, ValidationError
from fxhub.settings import Secret, Settings, load_settings
from fxhub.sources.databento.files import BAR_SCHEMAS

__all__ = [
    "ADVANCE_INTERVAL_SECONDS",
    "BACKFILL_TIMEOUT_SECONDS",
    "DEFAULT_HEARTBEAT_INTERVAL_S",
    "RESTART_BACKOFF_MAX_SECONDS",
    "RESTART_BACKOFF_SECONDS",
    "DatabentoAuthError",
    "GatewayUnreachable",
    "LiveConfig",
    "LiveSession",
    "historical_records",
    "replay_records",
]

logger = logging.getLogger(__name__)

DEFAULT_HEARTBEAT_INTERVAL_S: Final = 30  # the gateway's default; the client allows 5..1800
ADVANCE_INTERVAL_SECONDS: Final = 1.0  # how often quiet minutes are given a chance to close
RESTART_BACKOFF_SECONDS: Final = 1.0  # first wait before a new session after one ended
RESTART_BACKOFF_MAX_SECONDS: Final = 60.0
BACKFILL_TIMEOUT_SECONDS: Final = 120.0  # a replay that has not passed its end by then has failed
BACKFILL_ATTEMPTS: Final = 3
REPLAY_POLL_SECONDS: Final = 0.1
INTRADAY_REPLAY_LIMIT_NS: Final = 24 * 3600 * 1_000_000_000  # Databento replays up to 24 h back
_CONNECT_ERRORS: Final = ("Connection to ", "Authentication with ")  # the client's own wording

Record = Any  # a databento_dbn record (the bindings have no common base type)
RecordCallback = Callable[[Record], None]
ReconnectCallback = Callable[[int, int], None]  # (gap_start_ns, gap_end_ns)


class DatabentoAuthError(FxhubError):
    """The live gateway refused the session: a bad or unauthorised API key. Retrying will not help."""


class GatewayUnreachable(FxhubError):
    """The gateway could not be reached or did not answer in time. Retrying may help."""


@dataclass(frozen=True, kw_only=True, slots=True)
class LiveConfig:
    """What to subscribe to and how to keep the subscription alive.

    `api_key` None means DATABENTO_API_KEY from the environment or `.env` (see `fxhub.settings`).
    `gateway`/`port` None mean Databento's own gateway for the dataset. Intervals are in seconds of wall
    time; tests shrink them. `backfill` says how a gap is refilled: "replay" (intraday replay through the
    live gateway, up to 24 h back), "historical" (the Historical API) or "off".
    """

    api_key: Secret | None = None
    dataset: str = "GLBX.MDP3"
    schema: str = "mbp-10"
    stype_in: str = "parent"
    symbols: tuple[str, ...] = ("6E.FUT", "6B.FUT", "6J.FUT")
    gateway: str | None = None
    port: int | None = None
    heartbeat_interval_s: int = DEFAULT_HEARTBEAT_INTERVAL_S
    advance_interval_s: float = ADVANCE_INTERVAL_SECONDS
    restart_backoff_s: float = RESTART_BACKOFF_SECONDS
    restart_backoff_max_s: float = RESTART_BACKOFF_MAX_SECONDS
    backfill: Literal["replay", "historical", "off"] = "replay"
    backfill_timeout_s: float = BACKFILL_TIMEOUT_SECONDS
    backfill_attempts: int = BACKFILL_ATTEMPTS
    bar_spec: BarSpec = field(default_factory=BarSpec)

    def __post_init__(self) -> None:
        where = "LiveConfig"
        symbols: object = self.symbols  # callers may pass a list, or by mistake one string
        if not isinstance(symbols, tuple | list) or not symbols or not all(symbols):
            rule = "must be a non-empty tuple of symbols such as ('6E.FUT',)"
            raise ValidationError("symbols", self.symbols, rule, where=where)
        object.__setattr__(self, "symbols", tuple(symbols))
        if self.schema not in BAR_SCHEMAS:
            raise ValidationError(
                "schema", self.schema, f"must be one of {', '.join(BAR_SCHEMAS)}", where=where
            )
        if self.stype_in not in ("parent", "raw_symbol", "continuous"):
            rule = "must be 'parent', 'raw_symbol' or 'continuous'"
            raise ValidationError("stype_in", self.stype_in, rule, where=where)
        if not 5 <= self.heartbeat_interval_s <= 1800:
            rule = "must be between 5 and 1800 seconds (the gateway's limits)"
            raise ValidationError("heartbeat_interval_s", self.heartbeat_interval_s, rule, where=where)
        if self.port is not None and not 0 < self.port < 65536:
            raise ValidationError("port", self.port, "must be a TCP port 1..65535 or None", where=where)
        for name in (
            "advance_interval_s",
            "restart_backoff_s",
            "restart_backoff_max_s",
            "backfill_timeout_s",
        ):
            if not getattr(self, name) > 0:
                raise ValidationError(name, getattr(self, name), "must be > 0 seconds", where=where)
        if self.backfill not in ("replay", "historical", "off"):
            rule = "must be 'replay', 'historical' or 'off'"
            raise ValidationError("backfill", self.backfill, rule, where=where)
        if self.backfill_attempts < 1:
            raise ValidationError("backfill_attempts", self.backfill_attempts, "must be ≥ 1", where=where)

    def resolve_api_key(self, settings: Settings | None = None) -> Secret:
        """`api_key`, else DATABENTO_API_KEY from `settings` (default: `load_settings()`); a missing key
        raises `ConfigError` naming DATABENTO_API_KEY and where to set it."""
        if self.api_key is not None:
            return self.api_key
        settings = settings if settings is not None else load_settings()
        settings.require("DATABENTO_API_KEY")
        assert settings.databento_api_key is not None
        return settings.databento_api_key

    def describe(self) -> Mapping[str, object]:
        """The effective settings, for one log line at start (the key masked)."""
        return {
            "dataset": self.dataset,
            "schema": self.schema,
            "stype_in": self.stype_in,
            "symbols": ",".join(self.symbols),
            "gateway": f"{self.gateway or 'databento'}:{self.port or 'default'}",
            "heartbeat_interval_s": self.heartbeat_interval_s,
            "backfill": self.backfill,
            "api_key": str(self.api_key) if self.api_key is not None else "(DATABENTO_API_KEY)",
        }


def _translate(exc: Exception, config: LiveConfig, key: Secret) -> FxhubError:
    """A client error during connect/authenticate as an fxhub error that says what to do."""
    message = str(exc).replace(key.reveal(), key.masked())
    where = f"{config.gateway or 'the Databento gateway'}:{config.port or 'default port'}"
    if message.startswith(_CONNECT_ERRORS):
        return GatewayUnreachable(
            f"could not open a live session at {where} ({message}); check the network and, if set, the "
            f"gateway override. fxhub keeps retrying"
        )
    return DatabentoAuthError(
        f"Databento refused the live session for {config.dataset} (the gateway said: {message!r}): the API "
        f"key {key.masked()} was refused or has no live access to {config.dataset}. Check DATABENTO_API_KEY "
        f"in the environment or .env"
    )


def _client(config: LiveConfig, key: Secret, loop: Any, *, reconnect: bool) -> db.Live:
    kwargs: dict[str, Any] = {}
    if config.gateway is not None:
        kwargs["gateway"] = config.gateway
    if config.port is not None:
        kwargs["port"] = config.port
    return db.Live(
        key=key.reveal(),
        heartbeat_interval_s=config.heartbeat_interval_s,
        reconnect_policy="reconnect" if reconnect else "none",
        loop=loop,
        **kwargs,
    )


class LiveSession:
    """One `databento.Live` client subscribed per `config`; `open()` connects and authenticates.

    `on_record` gets every record on the client's thread, with `session_id` readable at that moment
    (it changes when the client reconnects). `on_reconnect(gap_start_ns, gap_end_ns)` is called after
    the client reconnected by itself: the gap runs from the last record it had to the new session's start.
    """

    def __init__(
        self,
        config: LiveConfig,
        key: Secret,
        loop: Any,
        *,
        on_record: RecordCallback,
        on_reconnect: ReconnectCallback | None = None,
        start_ns: int | None = None,
        number: int = 0,
    ) -> None:
        self.config = config
        self.number = number  # the runner's count of sessions, to tell them apart
        self._key = key
        self._loop = loop
        self._on_record = on_record
        self._on_reconnect = on_reconnect
        self._start_ns = start_ns
        self._client: db.Live | None = None

    @property
    def session_id(self) -> str | None:
        return None if self._client is None else self._client.session_id

    def open(self) -> None:
        """Connect, authenticate and subscribe; raises `DatabentoAuthError` or `GatewayUnreachable`."""
        client = _client(self.config, self._key, self._loop, reconnect=self._start_ns is None)
        client.add_callback(self._on_record, self._callback_failed)
        if self._on_reconnect is not None:
            on_reconnect = self._on_reconnect

            def reconnected(gap_start: pd.Timestamp, gap_end: pd.Timestamp) -> None:
                on_reconnect(int(gap_start.value), int(gap_end.value))

            client.add_reconnect_callback(reconnected, self._callback_failed)
        try:
            client.subscribe(
                dataset=self.config.dataset,
                schema=self.config.schema,
                symbols=list(self.config.symbols),
                stype_in=self.config.stype_in,
                start=self._start_ns,
            )
        except db.BentoError as exc:
            client.terminate()
            raise _translate(exc, self.config, self._key) from None
        self._client = client

    def start(self) -> None:
        assert self._client is not None, "open() first"
        self._client.start()

    def wait(self, timeout_s: float | None = None) -> None:
        """Block until the session ends: a clean EOF, `stop()`, or a failed reconnect (raises FxhubError)."""
        assert self._client is not None, "open() first"
        try:
            self._client.block_for_close(timeout=timeout_s)
        except db.BentoError as exc:
            raise GatewayUnreachable(f"the live session ended with an error: {exc}") from None

    def is_connected(self) -> bool:
        return self._client is not None and self._client.is_connected()

    def stop(self) -> None:
        """Close the connection gracefully; `wait()` returns once it is closed."""
        if self._client is not None:
            self._client.stop()

    def terminate(self) -> None:
        if self._client is not None:
            self._client.terminate()

    @staticmethod
    def _callback_failed(exc: Exception) -> None:
        logger.error("live record handling failed: %r", exc, exc_info=exc)


def replay_records(
    config: LiveConfig,
    key: Secret,
    loop: Any,
    start_ns: int,
    end_ns: int,
    *,
    now_ns: int,
    timeout_s: float,
    cancelled: threading.Event | None = None,
) -> Iterator[Record]:
    """The records of [start_ns, end_ns) by intraday replay (`start=` on a live subscription).

    Symbol mappings come first, then records in time order; the replay is over once any record at or
    after `end_ns` arrives (the stream is time-ordered), which may mean waiting for the market to get
    there. Raises `GatewayUnreachable` when the session ends early or `timeout_s` passes, or when
    `start_ns` is more than 24 h before `now_ns`.
    """
    if start_ns < now_ns - INTRADAY_REPLAY_LIMIT_NS:
        raise GatewayUnreachable(
            f"intraday replay reaches 24 h back only, the gap starts at {pd.Timestamp(start_ns, tz='UTC')}; "
            f"set LiveConfig(backfill='historical') to refill older gaps"
        )
    inbox: queue.SimpleQueue[Record] = queue.SimpleQueue()
    session = LiveSession(config, key, loop, on_record=inbox.put, start_ns=start_ns)
    session.open()
    deadline = time.monotonic() + timeout_s
    try:
        session.start()
        while True:
            if cancelled is not None and cancelled.is_set():
                return
            try:
                record = inbox.get(timeout=REPLAY_POLL_SECONDS)
            except queue.Empty:
                if not session.is_connected():
                    raise GatewayUnreachable(f"the replay from {start_ns} ended before {end_ns}") from None
                if time.monotonic() > deadline:
                    raise GatewayUnreachable(
                        f"the replay from {start_ns} did not reach {end_ns} within {timeout_s:.0f} s"
                    ) from None
                continue
            if isinstance(record, dbn.SymbolMappingMsg):
                yield record
            elif record.ts_event >= end_ns:
                return
            elif not isinstance(record, dbn.SystemMsg | dbn.ErrorMsg):
                yield record
    finally:
        session.terminate()


def historical_records(
    config: LiveConfig,
    key: Secret,
    start_ns: int,
    end_ns: int,
    raw_symbols: Mapping[int, str],
    *,
    client: Any = None,
) -> Iterator[Record]:
    """The records of [start_ns, end_ns) from the Historical API, for the contracts in `raw_symbols`.

    Asks by raw symbol, so the file's metadata maps instrument ids to contracts; those mappings are
    yielded first as `SymbolMappingMsg` records, as a live stream would send them.
    """
    historical = client if client is not None else db.Historical(key=key.reveal())
    symbols = sorted(set(raw_symbols.values()))
    if not symbols:
        raise GatewayUnreachable("no contracts known yet to ask the Historical API for")
    try:
        store = historical.timeseries.get_range(
            dataset=config.dataset,
            schema=config.schema,
            symbols=symbols,
            stype_in="raw_symbol",
            start=start_ns,
            end=end_ns,
        )
    except db.BentoError as exc:
        raise GatewayUnreachable(f"the Historical API failed for {symbols}: {exc}") from None
    raw_symbol = cast(dbn.SType, dbn.SType.RAW_SYMBOL)  # the stubs type enum members as str
    for iid, raw in raw_symbols.items():
        yield dbn.SymbolMappingMsg(
            publisher_id=0,
            instrument_id=iid,
            ts_event=start_ns,
            stype_in=raw_symbol,
            stype_in_symbol=raw,
            stype_out=raw_symbol,
            stype_out_symbol=raw,
            start_ts=start_ns,
            end_ts=end_ns,
        )
    for record in store:
        if start_ns <= record.ts_event < end_ns:
            yield record
