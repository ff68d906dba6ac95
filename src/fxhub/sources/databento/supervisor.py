"""Keeping a Databento live feed running and its candles whole: restarts, gaps and backfill.

Threads, and what each may touch:

- the client's event loop (one per supervisor, never the client's class-wide shared loop) runs every
  `databento.Live`; its record callbacks only put `(session, record)` on the inbox, so it never waits on us;
- the *consumer* drains the inbox: it alone feeds the `StreamingBars`, advances the clock
  (`advance(now)` every `advance_interval_s` when the inbox is empty, so quiet minutes still close),
  keeps the gap bookkeeping and calls the output handler;
- the *supervisor* runs one session after another: when a session ends (clean EOF, failed reconnect)
  it starts a new one after a backoff that doubles up to a limit;
- the *backfiller* replays each gap through a fresh `DatabentoBars` and posts the rebuilt candles to
  the inbox, where the consumer hands them on.

Gaps. Every record carries the session it came in; a new session after data has been seen opens a gap
at the last data record's `ts_event` (a session that ends opens it at once). Candles of minutes touching
an open gap are emitted `complete=False`; one emitted complete before the gap was known (a quiet minute
closed by the clock during a silent reconnect) is re-emitted `complete=False`. The gap closes at the
client's reported end (the new session's start) or at the first data record of the new session,
whichever comes first. The backfill replays [gap start rounded down to the minute, the end's minute + 1)
with one warm-up minute before (book state, empty-minute fill) through a fresh `DatabentoBars`. Once the
clock has passed the range's end plus the grace (so the live builders have emitted their incomplete
candles of those minutes), the rebuilt candles are handed on with `complete=True`; candles are keyed by
minute, so they replace the incomplete ones, and any live candle of those minutes that still turns up is
dropped. Replayed records never reach the live builders.

The start is a gap too (cause "start"): the live stream has nothing from before the supervisor started,
so the first minute it sees may be only the tail of a minute, and the hub would take that tail for the
whole minute (replacing, after a restart, the incomplete candle the previous run left for it). The rule:
when the first data record lies in a minute that began before the start (the clock read once the first
session is authenticated, just before it streams) and the market is open in that minute, a gap from that
minute's start to the first record is recorded and closed at once, and handled like any other: the
minute goes out `complete=False`, then rebuilt `complete=True` by the backfill. A start exactly on a
minute boundary, or before any data (market closed, or quiet until a later minute), records none: the
first minute the stream sees is then whole.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Final

import databento_dbn as dbn

from fxhub.core.bars import NS_PER_MINUTE
from fxhub.errors import FxhubError
from fxhub.model import Candle
from fxhub.sessions import cme_is_open, cme_next_open
from fxhub.settings import Settings
from fxhub.sources.databento.gaps import (
    BACKFILL_WARMUP_NS,
    BackfillDone,
    BackfillJob,
    GapCause,
    GapRecord,
    LiveStats,
    minute_ns,
    touched,
    utc_text,
)
from fxhub.sources.databento.router import DatabentoBars, cme_minute_open
from fxhub.sources.databento.session import (
    DatabentoAuthError,
    GatewayUnreachable,
    LiveConfig,
    LiveSession,
    Record,
    historical_records,
    replay_records,
)
from fxhub.sources.databento.stream import StreamingBars

__all__ = ["BACKFILL_WARMUP_NS", "GapCause", "GapRecord", "LiveStats", "LiveSupervisor"]

logger = logging.getLogger(__name__)

OPEN_END_NS: Final = 2**63 - 1  # end of a gap whose end is not known yet
RECENT_MINUTES: Final = 180  # live candles remembered for re-marking when a gap turns up late
STABLE_SESSION_SECONDS: Final = 60.0  # a session that lasted this long resets the restart backoff
THREAD_JOIN_SECONDS: Final = 10.0
_NOT_DATA: Final = (dbn.SymbolMappingMsg, dbn.SystemMsg, dbn.ErrorMsg)

CandleHandler = Callable[[Candle], None]
Clock = Callable[[], int]  # wall-clock time in ns since the epoch
Token = tuple[int, str | None]  # (supervisor's session number, gateway session id)


@dataclass(frozen=True, slots=True)
class _Reconnected:
    token: Token
    start_ns: int
    end_ns: int


@dataclass(frozen=True, slots=True)
class _SessionEnded:
    serial: int


_STOP: Final = object()


class LiveSupervisor:
    """Runs Databento live sessions for `config` and hands every candle to `handler` (one thread).

    `start()` connects once in the caller's thread, so a refused key or an unreachable gateway raises
    right there (`DatabentoAuthError`, `GatewayUnreachable`); a missing key raises `ConfigError` at
    construction. `stop()` ends the session, flushes the current minute and joins every thread.
    `clock` is wall time in ns (tests pass the stand-in's market clock); `settings` supplies
    DATABENTO_API_KEY when `config.api_key` is None.
    """

    def __init__(
        self,
        config: LiveConfig,
        handler: CandleHandler,
        *,
        clock: Clock = time.time_ns,
        settings: Settings | None = None,
        market_open: Callable[[int], bool] = cme_minute_open,
        historical_client: Any = None,
    ) -> None:
        self.config = config
        self._key = config.resolve_api_key(settings)
        self._handler = handler
        self._clock = clock
        self._market_open = market_open
        self._historical = historical_client
        self._bars = DatabentoBars(self._on_live_candle, spec=config.bar_spec, market_open=market_open)
        self._stream = StreamingBars(self._bars)
        self._inbox: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._backfills: queue.SimpleQueue[BackfillJob | None] = queue.SimpleQueue()
        self._stopping = threading.Event()
        self._lock = threading.Lock()  # guards _session between the supervisor and stop()
        self._session: LiveSession | None = None
        self._serials = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._threads: dict[str, threading.Thread] = {}
        self._stats = LiveStats()
        self.error: FxhubError | None = None  # why the supervisor gave up, if it did
        # consumer-thread state
        self._current: Token | None = None
        self._started_ns: int | None = None  # the clock when the first session was about to stream
        self._last_data_ns: int | None = None
        self._open_gap: GapRecord | None = None
        self._recent: dict[tuple[str, int], Candle] = {}  # (symbol, minute) → last live candle emitted
        self._replaced: set[tuple[str, int]] = set()  # minutes a backfill replaced
        self._newest_minute = 0
        self._parked: list[BackfillDone] = []  # rebuilt, waiting for the live minutes they replace

    # ------------------------------------------------------------------------------------ public API

    @property
    def stats(self) -> LiveStats:
        """A snapshot of the counters."""
        s = self._stats
        return replace(s, gaps=[replace(g) for g in list(s.gaps)])

    def start(self) -> None:
        logger.info("databento live: %s", " ".join(f"{k}={v}" for k, v in self.config.describe().items()))
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._spawn("databento-loop", loop.run_forever)
        self._spawn("databento-consumer", self._consume)
        self._spawn("databento-backfill", self._backfill_worker)
        try:
            session = self._new_session()
            session.open()
        except Exception:
            self._stopping.set()
            self._shutdown()
            raise
        self._started_ns = self._clock()  # before the supervisor thread starts the stream
        self._log_market_hours()
        self._spawn("databento-supervisor", lambda: self._supervise(session))

    def wait(self, timeout_s: float | None = None) -> None:
        """Block until the supervisor gives up (re-raising why) or `timeout_s` passes."""
        thread = self._threads.get("databento-supervisor")
        if thread is not None:
            thread.join(timeout_s)
        if self.error is not None:
            raise self.error

    def stop(self) -> None:
        """End the session, cancel a backfill in flight, flush the current minute, join every thread.
        Call it from any thread but the handler's (the consumer's, which it joins)."""
        if self._stopping.is_set() and not self._threads:
            return
        self._stopping.set()
        with self._lock:
            session = self._session
        if session is not None:
            session.stop()
        supervisor = self._threads.get("databento-supervisor")
        if supervisor is not None:
            supervisor.join(THREAD_JOIN_SECONDS)
            if supervisor.is_alive() and session is not None:
                session.terminate()
                supervisor.join(THREAD_JOIN_SECONDS)
        self._shutdown()

    def __enter__(self) -> LiveSupervisor:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------------------------ threads

    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        self._threads[name] = thread
        thread.start()

    def _shutdown(self) -> None:
        # The backfiller first (a replay in flight is cancelled), so what it posted reaches the consumer.
        self._backfills.put(None)
        self._join("databento-backfill")
        self._inbox.put(_STOP)
        self._join("databento-consumer")
        loop = self._loop
        if loop is not None and loop.is_running():
            asyncio.run_coroutine_threadsafe(_cancel_tasks(), loop).result(THREAD_JOIN_SECONDS)
            loop.call_soon_threadsafe(loop.stop)
            self._join("databento-loop")
        if loop is not None and not loop.is_running():
            loop.close()
        self._threads.clear()

    def _join(self, name: str) -> None:
        thread = self._threads.get(name)
        if thread is not None:
            thread.join(THREAD_JOIN_SECONDS)
            if thread.is_alive():
                logger.error("the %s thread did not finish within %.0f s", name, THREAD_JOIN_SECONDS)

    def _new_session(self) -> LiveSession:
        serial = next(self._serials)
        session: LiveSession

        def on_record(record: Record) -> None:
            self._inbox.put(((serial, session.session_id), record))

        def on_reconnect(start_ns: int, end_ns: int) -> None:
            self._inbox.put(_Reconnected((serial, session.session_id), start_ns, end_ns))

        assert self._loop is not None
        session = LiveSession(
            self.config, self._key, self._loop, on_record=on_record, on_reconnect=on_reconnect, number=serial
        )
        return session

    def _supervise(self, session: LiveSession) -> None:
        backoff = self.config.restart_backoff_s
        while True:
            with self._lock:
                if self._stopping.is_set():
                    session.terminate()
                    return
                self._session = session
                session.start()
            self._stats.sessions += 1
            began = time.monotonic()
            reason = "the gateway closed the stream (clean end of stream)"
            try:
                session.wait()
            except FxhubError as exc:
                reason = str(exc)
            with self._lock:
                self._session = None
            if self._stopping.is_set():
                return
            self._inbox.put(_SessionEnded(session.number))
            if time.monotonic() - began >= STABLE_SESSION_SECONDS:
                backoff = self.config.restart_backoff_s
            logger.warning("the live session ended: %s; starting a new one in %.2f s", reason, backoff)
            next_session = self._reopen(backoff)
            if next_session is None:
                return
            session = next_session
            backoff = min(backoff * 2, self.config.restart_backoff_max_s)
            self._stats.restarts += 1

    def _reopen(self, backoff: float) -> LiveSession | None:
        """A new open session after `backoff` (doubling while the gateway is unreachable); None if stopping
        or the key was refused (then `self.error` says so)."""
        while not self._stopping.wait(backoff):
            session = self._new_session()
            try:
                session.open()
            except DatabentoAuthError as exc:
                logger.error("%s", exc)
                self.error = exc
                return None
            except GatewayUnreachable as exc:
                backoff = min(backoff * 2, self.config.restart_backoff_max_s)
                logger.warning("%s; next attempt in %.2f s", exc, backoff)
                continue
            self._log_market_hours()
            return session
        return None

    def _log_market_hours(self) -> None:
        now = datetime.fromtimestamp(self._clock() / 1e9, UTC)
        if not cme_is_open(now):
            opens = cme_next_open(now)
            logger.warning(
                "CME FX futures are closed at %s; they open next at %s (in %s). The session stays "
                "connected and only heartbeats arrive until then",
                now.isoformat(timespec="seconds"),
                opens.isoformat(timespec="seconds"),
                opens - now,
            )

    # ------------------------------------------------------------------------------------ consumer

    def _consume(self) -> None:
        interval = self.config.advance_interval_s
        next_advance = time.monotonic() + interval
        while True:
            try:
                item: object = self._inbox.get(timeout=interval)
            except queue.Empty:
                item = None
            if item is _STOP:
                break
            try:
                if item is not None:
                    self._dispatch(item)
                if time.monotonic() >= next_advance and self._inbox.empty():
                    next_advance = time.monotonic() + interval
                    now = self._clock()
                    self._stream.advance(now)
                    self._apply_parked(now - self._bars.spec.grace_ns)
            except Exception:
                logger.exception("databento live: handling %s failed", type(item).__name__)
        self._finish()

    def _dispatch(self, item: object) -> None:
        if type(item) is tuple:
            self._on_record(*item)
        elif isinstance(item, _Reconnected):
            self._on_reconnected(item)
        elif isinstance(item, _SessionEnded):
            if self._current is not None and self._current[0] == item.serial:
                self._open(self._last_data_ns, "restart")
        elif isinstance(item, BackfillDone):
            self._parked.append(item)

    def _on_record(self, token: Token, record: Record) -> None:
        if token != self._current:
            self._enter(token)
        if not isinstance(record, _NOT_DATA):
            if self._open_gap is not None:
                self._close(record.ts_event)
            ts = int(record.ts_event)
            if self._last_data_ns is None:
                self._start_gap(ts)
            if self._last_data_ns is None or ts > self._last_data_ns:
                self._last_data_ns = ts
                self._stats.last_record_ns = ts
            self._stats.records += 1
        elif isinstance(record, dbn.SystemMsg) and record.is_heartbeat():
            self._stats.heartbeats += 1
        self._stream.on_record(record)

    def _enter(self, token: Token) -> None:
        previous, self._current = self._current, token
        if previous is not None:
            self._open(self._last_data_ns, "reconnect" if previous[0] == token[0] else "restart")

    def _on_reconnected(self, event: _Reconnected) -> None:
        self._stats.reconnects += 1
        if event.token != self._current:
            self._enter(event.token)
        if self._open_gap is None and self._last_data_ns is None:
            self._open(event.start_ns, "reconnect")  # nothing seen before the drop: the client's word
        if self._open_gap is not None:
            self._open_gap.reported = (event.start_ns, event.end_ns)
            self._close(event.end_ns)
        else:
            for gap in reversed(self._stats.gaps):
                if gap.cause == "reconnect" and gap.reported is None:
                    gap.reported = (event.start_ns, event.end_ns)
                    break
        logger.warning(
            "databento live: the client reconnected by itself; it reports a gap from %s to %s",
            utc_text(event.start_ns),
            utc_text(event.end_ns),
        )

    def _start_gap(self, first_ns: int) -> None:
        """The first data record, at `first_ns`: its minute lost what came before the start, if it began
        before the start and the market was open in it (see the module doc)."""
        minute = first_ns // NS_PER_MINUTE * NS_PER_MINUTE
        if self._started_ns is not None and minute < self._started_ns and self._market_open(minute):
            self._open(minute, "start")
            self._close(first_ns)

    def _open(self, start_ns: int | None, cause: GapCause) -> None:
        """The feed went away after `start_ns` (None: before any data, nothing to refill)."""
        if self._open_gap is not None or start_ns is None:
            return
        gap = GapRecord(start_ns, None, cause)
        self._open_gap = gap
        self._stats.gaps.append(gap)
        self._bars.mark_gap(start_ns, OPEN_END_NS)
        self._remark(start_ns, OPEN_END_NS)

    def _close(self, end_ns: int) -> None:
        gap = self._open_gap
        assert gap is not None
        self._open_gap = None
        gap.end_ns = max(int(end_ns), gap.start_ns)
        self._bars.resolve_gap(gap.start_ns, OPEN_END_NS)
        self._bars.mark_gap(gap.start_ns, gap.end_ns)
        first, stop = touched(gap)
        logger.warning(
            "databento live: feed gap (%s) from %s to %s; minutes %s to %s are marked incomplete%s",
            gap.cause,
            utc_text(gap.start_ns),
            utc_text(gap.end_ns),
            utc_text(first),
            utc_text(stop - NS_PER_MINUTE),
            "" if self.config.backfill == "off" else " until the backfill replaces them",
        )
        if self.config.backfill != "off":
            self._backfills.put(BackfillJob(gap, dict(self._bars.symbols.raw_symbols)))

    def _remark(self, start_ns: int, end_ns: int) -> None:
        """Re-emit, as incomplete, candles already handed on for minutes the new gap touches."""
        for key, candle in list(self._recent.items()):
            minute = key[1]
            if minute + NS_PER_MINUTE > start_ns and minute <= end_ns and candle.complete is not False:
                candle = replace(candle, complete=False)
                self._recent[key] = candle
                self._stats.remarked += 1
                logger.warning("%s %s closed before a gap was known: re-marked incomplete", *key)
                self._emit(candle)

    def _on_live_candle(self, candle: Candle) -> None:
        key = (candle.symbol, minute_ns(candle))
        if key in self._replaced:
            self._stats.superseded += 1
            return
        self._recent[key] = candle
        if key[1] > self._newest_minute:
            self._newest_minute = key[1]
            self._prune(key[1] - RECENT_MINUTES * NS_PER_MINUTE)
        self._emit(candle)

    def _prune(self, before_ns: int) -> None:
        for key in [k for k in self._recent if k[1] < before_ns]:
            del self._recent[key]
        self._replaced = {k for k in self._replaced if k[1] >= before_ns}

    def _emit(self, candle: Candle) -> None:
        self._stats.candles += 1
        try:
            self._handler(candle)
        except Exception:
            self._stats.handler_errors += 1
            logger.exception("the candle handler failed on %s %s", candle.symbol, candle.timestamp)

    def _apply_parked(self, closed_until_ns: int) -> None:
        """Hand on the backfills whose minutes the live builders have all closed by now, so a rebuilt
        candle always comes after the live one it replaces."""
        ready = [d for d in self._parked if touched(d.job.gap)[1] <= closed_until_ns]
        for done in ready:
            self._parked.remove(done)
            self._on_backfilled(done)

    def _on_backfilled(self, done: BackfillDone) -> None:
        gap = done.job.gap
        assert gap.end_ns is not None
        if done.error is not None:
            gap.error = done.error
            logger.error(
                "databento live: the gap from %s to %s could not be backfilled (%s); its minutes stay "
                "complete=False",
                utc_text(gap.start_ns),
                utc_text(gap.end_ns),
                done.error,
            )
            return
        first, stop = touched(gap)
        rebuilt = set()
        for candle in done.candles:
            key = (candle.symbol, minute_ns(candle))
            rebuilt.add(key)
            self._replaced.add(key)
            self._emit(replace(candle, complete=True))
        self._bars.resolve_gap(gap.start_ns, gap.end_ns)
        for key, candle in list(self._recent.items()):
            # A symbol the replay had no records for lost nothing in that minute: its live candle stands
            # (unless another gap, still open, touches the minute too).
            minute = key[1]
            if (
                first <= minute < stop
                and key not in rebuilt
                and candle.complete is False
                and not self._bars.touches_gap(minute)
            ):
                candle = replace(candle, complete=True)
                self._recent[key] = candle
                self._emit(candle)
        gap.backfilled, gap.candles = True, len(done.candles)
        logger.info(
            "databento live: backfilled %s to %s: %d candles replaced",
            utc_text(first),
            utc_text(stop - NS_PER_MINUTE),
            len(done.candles),
        )

    def _finish(self) -> None:
        """Stopped: the minute running now is cut short, so it goes out incomplete; then flush."""
        if self._last_data_ns is not None and self._open_gap is None:
            self._bars.mark_gap(self._clock(), OPEN_END_NS)
        self._stream.flush()
        self._apply_parked(OPEN_END_NS)
        pending = [g for g in self._stats.gaps if not g.backfilled and g.error is None]
        if pending:
            logger.warning(
                "stopped with %d gap(s) not backfilled; their minutes stay incomplete", len(pending)
            )

    # ------------------------------------------------------------------------------------ backfill

    def _backfill_worker(self) -> None:
        while True:
            job = self._backfills.get()
            if job is None:
                return
            candles: list[Candle] = []
            error: str | None = None
            for attempt in range(1, self.config.backfill_attempts + 1):
                if self._stopping.is_set():
                    error = "stopped before the backfill finished"
                    break
                try:
                    candles, error = self._rebuild(job), None
                    break
                except DatabentoAuthError as exc:
                    error = str(exc)
                    break
                except FxhubError as exc:
                    error = str(exc)
                    wait = self.config.restart_backoff_s * attempt
                    logger.warning("backfill attempt %d failed: %s; next in %.2f s", attempt, exc, wait)
                    self._stopping.wait(wait)
            self._inbox.put(BackfillDone(job, candles, error))

    def _rebuild(self, job: BackfillJob) -> list[Candle]:
        first, stop = touched(job.gap)
        collected: list[Candle] = []
        bars = DatabentoBars(collected.append, spec=self.config.bar_spec, market_open=self._market_open)
        stream = StreamingBars(bars)
        for record in self._records(first - BACKFILL_WARMUP_NS, stop, job.raw_symbols):
            stream.on_record(record)
        if self._stopping.is_set():
            raise FxhubError("stopped during the backfill")
        stream.flush()
        bars.advance(stop + bars.spec.grace_ns)  # zero-volume candles for quiet minutes up to the end
        return [c for c in collected if first <= minute_ns(c) < stop]

    def _records(self, start_ns: int, end_ns: int, raw_symbols: dict[int, str]) -> Iterable[Record]:
        if self.config.backfill == "historical":
            return historical_records(
                self.config, self._key, start_ns, end_ns, raw_symbols, client=self._historical
            )
        assert self._loop is not None
        return replay_records(
            self.config,
            self._key,
            self._loop,
            start_ns,
            end_ns,
            now_ns=self._clock(),
            timeout_s=self.config.backfill_timeout_s,
            cancelled=self._stopping,
        )


async def _cancel_tasks() -> None:
    """Cancel what the clients left on the loop (reconnect and heartbeat tasks) before it closes."""
    tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
