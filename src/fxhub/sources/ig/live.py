"""`LiveIg`: IG's live quotes into tick-volume candles — REST login → stream → `IgBars`, with gap backfill.

What the ``fxhub collect ig --live`` command needs, in one object: log in over REST, read each epic's
price scale, stream its ticks into `IgBars` (one candle per minute, volume = quote updates), optionally
record every tick as received (`write_recording` chunks), and repair the minutes a lost session missed.

**Gaps.** When the stream reports a gap (a session the client could not recover, see `IgStream`), the
candles of every minute the gap touches — from the minute of the last tick before it to the minute the
subscriptions came back — are held back. Once the last of those minutes has closed, IG's minute prices
(``GET /prices``) replace them. Decided here:

- OHLC of a backfilled minute is the per-component mid of IG's bid and ask OHLC (IG's own mid chart);
- its volume is IG's ``lastTradedVolume``, which for IG's FX markets is IG's count of price updates in
  the minute (not the same stream as ours, so close to but not exactly our count), and 0 when IG sends
  none; ``quote_count`` and the spreads stay None (we did not count);
- every minute of the gap is marked ``complete=False``: the live feed had a hole in it, whatever
  filled it. A gap minute IG has no price for keeps our own (partial) candle, also ``complete=False``;
  so does every gap minute when the REST call fails.

IG's price history is rationed (an allowance of about 10,000 points a week), so only the last
`LiveIgConfig.backfill_max_minutes` minutes of a longer gap are asked for; earlier ones keep ours.

Backfilled candles reach the handler after later live ones; the hub keeps one candle per (symbol,
source, minute), so they replace whatever was sent for those minutes.

**The start** is a gap of the minute in progress: the stream has nothing from before `start()` (the
clock read just before the stream connects), so that minute's ticks are only its tail, and the hub
would take them for the whole minute (after a restart, replacing the incomplete candle the previous run
left). The rule, per epic: when its first quote lies in the minute in progress at the start, the start
was not on the minute boundary and the market is open in that minute, the minute is a gap of that
epic — held, then replaced by IG's minute price like any other gap minute, ``complete=False``. A start on
the boundary, or an epic whose first quote comes in a later minute (market closed or quiet), has none.
Quotes of minutes that began before the start minute (the snapshot of IG's last tick, possibly hours
old) are recorded but build no candle: they cannot make their minute whole.

**Threads.** Quotes arrive on the Lightstreamer listener thread; `advance` runs on the caller's
thread (`run` calls it every `ADVANCE_INTERVAL_SECONDS`); backfills and recording writes run on one
worker thread. The candle handler is called from all three and must be thread-safe (`HubSink` is).
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Final

from fxhub.core.bars import NS_PER_MINUTE, BarSpec
from fxhub.errors import ConfigError
from fxhub.instruments import InstrumentTable, load_instruments
from fxhub.model import Candle, Quote
from fxhub.sources.ig.messages import (
    NS_PER_MS,
    IgError,
    IgStreamError,
    MarketState,
    MinuteTickCount,
    PriceScale,
)
from fxhub.sources.ig.recording import ChunkedRecorder, RecordedTick
from fxhub.sources.ig.replay import IgBars, fx_minute_open
from fxhub.sources.ig.rest import IgRestClient
from fxhub.sources.ig.rest_messages import MinutePrice, candle_from_minute_price
from fxhub.sources.ig.streaming import CONNECT_TIMEOUT_SECONDS, IgStream, StreamOptions

__all__ = [
    "ADVANCE_INTERVAL_SECONDS",
    "BACKFILL_MAX_MINUTES",
    "RECORD_CHUNK_SECONDS",
    "RECORD_CHUNK_TICKS",
    "RELOGIN_PAUSE_SECONDS",
    "LiveIg",
    "LiveIgConfig",
    "LiveIgStats",
    "candle_from_minute_price",
]

logger = logging.getLogger(__name__)

ADVANCE_INTERVAL_SECONDS: Final = 1.0
RECORD_CHUNK_TICKS: Final = 20_000
RECORD_CHUNK_SECONDS: Final = 600.0
BACKFILL_MAX_MINUTES: Final = 240
RELOGIN_PAUSE_SECONDS: Final = 60.0
"""After the stream refused the session tokens, log in again at most this often."""
_WORKER_JOIN_SECONDS: Final = 30.0

CandleHandler = Callable[[Candle], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveIgConfig:
    """What to collect and how. `record_dir`: write every received tick there in chunk files."""

    epics: tuple[str, ...]
    record_dir: Path | None = None
    record_chunk_ticks: int = RECORD_CHUNK_TICKS
    record_chunk_seconds: float = RECORD_CHUNK_SECONDS
    minute_counts: bool = False  # also subscribe CHART:{epic}:1MINUTE and log IG's tick counts
    backfill: bool = True
    backfill_max_minutes: int = BACKFILL_MAX_MINUTES
    spec: BarSpec = field(default_factory=BarSpec)
    stream: StreamOptions = field(default_factory=StreamOptions)

    def __post_init__(self) -> None:
        if not self.epics:
            raise ConfigError("LiveIgConfig.epics must name at least one IG epic, was ()")
        if self.backfill_max_minutes < 1:
            raise ConfigError(
                f"LiveIgConfig.backfill_max_minutes must be ≥ 1, was {self.backfill_max_minutes}"
            )
        if self.record_chunk_ticks < 1 or self.record_chunk_seconds <= 0:
            raise ConfigError(
                "LiveIgConfig.record_chunk_ticks must be ≥ 1 and record_chunk_seconds > 0, was "
                f"{self.record_chunk_ticks} and {self.record_chunk_seconds}"
            )


@dataclass(slots=True)
class LiveIgStats:
    quotes: int = 0
    candles: int = 0
    # (start_ns, end_ns) lost: the stream's gaps, and (minute start, start) of a start mid-minute
    gaps: list[tuple[int, int]] = field(default_factory=list)
    backfilled_candles: int = 0
    backfill_failures: int = 0
    recorded_ticks: int = 0
    recording_files: list[Path] = field(default_factory=list)
    market_states: dict[str, MarketState] = field(default_factory=dict)
    ig_tick_counts: dict[str, MinuteTickCount] = field(default_factory=dict)  # last complete, by epic
    logins: int = 0


@dataclass(slots=True)
class _Gap:
    epic: str
    symbol: str
    first_minute_ns: int
    last_minute_ns: int
    held: dict[int, Candle] = field(default_factory=dict)
    submitted: bool = False

    def covers(self, symbol: str, minute_ns: int) -> bool:
        return symbol == self.symbol and self.first_minute_ns <= minute_ns <= self.last_minute_ns


class LiveIg:
    """Live IG candles into `handler`: `start()`, then `run(stop)` (or `advance()` on a timer), `close()`."""

    def __init__(
        self,
        rest: IgRestClient,
        handler: CandleHandler,
        config: LiveIgConfig,
        *,
        table: InstrumentTable | None = None,
        clock: Callable[[], int] = time.time_ns,
        market_open: Callable[[int], bool] = fx_minute_open,
    ) -> None:
        self.rest = rest
        self.config = config
        self.stats = LiveIgStats()
        self.stream: IgStream | None = None
        self._handler = handler
        self._table = table if table is not None else load_instruments()
        self._clock = clock
        self._market_open = market_open
        self._lock = threading.RLock()
        self._bars = IgBars(self._on_candle, spec=config.spec, table=self._table, market_open=market_open)
        self._scales: dict[str, PriceScale] = {}
        self._symbols: dict[str, str] = {}
        self._gaps: list[_Gap] = []
        self._started_ns = 0  # the clock just before the stream connected (see the module doc)
        self._started_epics: set[str] = set()  # epics whose first candle-building quote arrived
        self._closing = False
        self._last_relogin = -math.inf
        self._jobs: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._recorder: ChunkedRecorder | None = None
        pairs: dict[str, str] = {}
        increments: list[float] = []
        for epic in config.epics:
            instrument = self._table.by_epic(epic)
            if instrument is None:
                raise ConfigError(
                    f"epic {epic!r} is not in the instrument table; add it to ig_epics of its pair in "
                    f"instruments.toml (known pairs: {', '.join(self._table.pairs)})"
                )
            if instrument.pair in pairs:
                raise ConfigError(
                    f"epics {pairs[instrument.pair]!r} and {epic!r} both quote {instrument.pair}; their "
                    f"quotes would mix in one candle series: collect one epic per pair"
                )
            pairs[instrument.pair] = epic
            self._symbols[epic] = instrument.pair
            increments.append(instrument.ig_price_increment)
        if config.record_dir is not None:
            self._recorder = ChunkedRecorder(
                config.record_dir,
                decimals=max(0, round(-math.log10(min(increments)))),
                chunk_ticks=config.record_chunk_ticks,
                chunk_ns=int(config.record_chunk_seconds * 1e9),
            )

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self, timeout_s: float = CONNECT_TIMEOUT_SECONDS) -> None:
        """Log in, read the price scales, connect the stream and subscribe every epic."""
        session = self.rest.ensure_session()
        self.stats.logins = self.rest.logins
        for epic in self.config.epics:
            self._scales[epic] = self.rest.market(epic).scale
        if self.config.record_dir is not None:
            self.config.record_dir.mkdir(parents=True, exist_ok=True)
        self._worker = threading.Thread(target=self._work, name="fxhub-ig-live-worker", daemon=True)
        self._worker.start()
        self._started_ns = self._clock()  # before any quote can arrive
        stream = IgStream(
            session.lightstreamer_endpoint,
            session.account_id,
            session.stream_password,
            on_quote=self._on_quote,
            on_gap=self._on_gap,
            on_market_state=self._on_market_state,
            on_minute=self._on_minute,
            on_error=self._on_stream_error,
            options=self.config.stream,
            table=self._table,
            clock=self._clock,
        )
        self.stream = stream
        for epic in self.config.epics:
            stream.subscribe(epic, scale=self._scales[epic], minute_bars=self.config.minute_counts)
        logger.info(
            "IG live: %s on %s as account %s",
            ", ".join(self.config.epics),
            session.lightstreamer_endpoint,
            session.account_id,
        )
        try:
            stream.connect(timeout_s)
        except BaseException:
            self.close()
            raise

    def run(self, stop: threading.Event, interval_s: float = ADVANCE_INTERVAL_SECONDS) -> None:
        """Call `advance` every `interval_s` until `stop` is set."""
        while not stop.wait(interval_s):
            self.advance()

    def close(self) -> None:
        """End the stream, emit the open minute (marked incomplete), write the last recording chunk."""
        with self._lock:
            if self._closing:
                return
            self._closing = True
        if self.stream is not None:
            self.stream.close()
        with self._lock:
            self._bars.flush()
            for gap in self._gaps:
                if not gap.submitted:
                    self._submit(gap)
            if self._recorder is not None and self._recorder.buffer:
                self._submit_recording()
        if self._worker is not None:
            self._jobs.put(None)
            self._worker.join(_WORKER_JOIN_SECONDS)

    def __enter__(self) -> LiveIg:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def wait_idle(self, timeout_s: float = _WORKER_JOIN_SECONDS) -> None:
        """Wait until queued backfills and recording writes are done (tests, shutdown reports)."""
        done = threading.Event()
        self._jobs.put(done.set)
        if not done.wait(timeout_s):
            raise TimeoutError(f"the IG live worker was still busy after {timeout_s} s")

    # -- time --------------------------------------------------------------------------------------

    def advance(self, now_ns: int | None = None) -> None:
        """The clock moved: close quiet minutes (only while connected), start due backfills and writes."""
        now = self._clock() if now_ns is None else now_ns
        with self._lock:
            if self._closing:
                return
            if self.stream is not None and self.stream.connected:
                self._bars.advance(now)
            for gap in self._gaps:
                if (
                    not gap.submitted
                    and now >= gap.last_minute_ns + NS_PER_MINUTE + self.config.spec.grace_ns
                ):
                    self._submit(gap)
            if self._recorder is not None and self._recorder.due(now):
                self._submit_recording()

    # -- stream events (listener thread) -----------------------------------------------------------

    def _on_quote(self, quote: Quote, epic: str) -> None:
        with self._lock:
            self.stats.quotes += 1
            if quote.ts_event >= self._started_ns // NS_PER_MINUTE * NS_PER_MINUTE:
                if epic not in self._started_epics:
                    self._started_epics.add(epic)
                    self._start_gap(epic, quote.ts_event)
                self._bars.on_quote(quote, epic=epic)
            if self._recorder is not None:
                tick = RecordedTick(quote.ts_event // NS_PER_MS, epic, quote.symbol, quote.bid, quote.ask)
                self._recorder.add(tick, self._clock())
                if len(self._recorder.buffer) >= self._recorder.chunk_ticks:
                    self._submit_recording()

    def _on_gap(self, start_ns: int, end_ns: int) -> None:
        first = start_ns // NS_PER_MINUTE * NS_PER_MINUTE
        last = end_ns // NS_PER_MINUTE * NS_PER_MINUTE
        with self._lock:
            self.stats.gaps.append((start_ns, end_ns))
            for epic in self.config.epics:
                self._gaps.append(_Gap(epic, self._symbols[epic], first, last))
        logger.warning(
            "IG live: minutes %s to %s lost updates; their candles wait for IG's minute prices",
            datetime.fromtimestamp(first / 1e9, UTC).strftime("%Y-%m-%d %H:%M"),
            datetime.fromtimestamp(last / 1e9, UTC).strftime("%H:%M"),
        )

    def _start_gap(self, epic: str, first_ns: int) -> None:
        """The epic's first quote, at `first_ns`: hold its minute for IG's price if the stream only saw
        its tail (see the module doc). Under the lock."""
        minute = first_ns // NS_PER_MINUTE * NS_PER_MINUTE
        if not minute < self._started_ns < minute + NS_PER_MINUTE or not self._market_open(minute):
            return
        gap = (minute, self._started_ns)
        if gap not in self.stats.gaps:
            self.stats.gaps.append(gap)
        self._gaps.append(_Gap(epic, self._symbols[epic], minute, minute))
        logger.warning(
            "IG live: started at %s, mid-minute; the candle of %s %s waits for IG's minute prices",
            datetime.fromtimestamp(self._started_ns / 1e9, UTC).strftime("%H:%M:%S"),
            self._symbols[epic],
            datetime.fromtimestamp(minute / 1e9, UTC).strftime("%Y-%m-%d %H:%M"),
        )

    def _on_market_state(self, epic: str, state: MarketState) -> None:
        if self.stats.market_states.get(epic) is not state:
            logger.info("IG live: %s is %s", epic, state.value)
        self.stats.market_states[epic] = state

    def _on_minute(self, count: MinuteTickCount) -> None:
        if count.complete:
            self.stats.ig_tick_counts[count.epic] = count
            logger.debug(
                "IG live: IG counted %d ticks of %s in its minute %d",
                count.tick_count,
                count.epic,
                count.start_ns,
            )

    def _on_stream_error(self, error: IgStreamError) -> None:
        if error.code != 1 or self._closing:
            return
        now = time.monotonic()
        if now - self._last_relogin < RELOGIN_PAUSE_SECONDS:
            logger.error("IG live: the stream refused fresh tokens too; not logging in again yet")
            return
        self._last_relogin = now
        self._jobs.put(self._relogin)

    def _relogin(self) -> None:
        stream = self.stream
        if stream is None or self._closing:
            return
        try:
            session = self.rest.login()
        except IgError as exc:
            logger.error("IG live: logging in again failed: %s", exc)
            return
        self.stats.logins = self.rest.logins
        stream.set_password(session.stream_password)
        stream.reconnect()

    # -- candles -----------------------------------------------------------------------------------

    def _on_candle(self, candle: Candle) -> None:
        """From the bar builder (under the lock): hold gap minutes, pass the rest on."""
        minute = int(candle.timestamp.timestamp()) * 1_000_000_000
        for gap in self._gaps:
            if not gap.submitted and gap.covers(candle.symbol, minute):
                gap.held[minute] = candle
                if minute >= gap.last_minute_ns:
                    self._submit(gap)
                return
        if self._closing and minute + NS_PER_MINUTE > self._clock():
            candle = replace(candle, complete=False)  # cut short by the shutdown
        self._emit(candle)

    def _emit(self, candle: Candle) -> None:
        self.stats.candles += 1
        self._handler(candle)

    def _submit(self, gap: _Gap) -> None:
        gap.submitted = True
        self._jobs.put(lambda: self._backfill(gap))

    def _submit_recording(self) -> None:
        assert self._recorder is not None
        recorder, ticks = self._recorder, self._recorder.take()

        def write() -> None:
            path = recorder.write(ticks)
            with self._lock:
                self.stats.recorded_ticks += len(ticks)
                self.stats.recording_files.append(path)

        self._jobs.put(write)

    def _backfill(self, gap: _Gap) -> None:
        prices: dict[int, MinutePrice] = {}
        if self.config.backfill:
            oldest = gap.last_minute_ns - (self.config.backfill_max_minutes - 1) * NS_PER_MINUTE
            if oldest > gap.first_minute_ns:
                logger.warning(
                    "IG live: the gap of %s spans %d minutes; asking IG for the last %d only",
                    gap.epic,
                    (gap.last_minute_ns - gap.first_minute_ns) // NS_PER_MINUTE + 1,
                    self.config.backfill_max_minutes,
                )
            start = datetime.fromtimestamp(max(oldest, gap.first_minute_ns) // 1_000_000_000, UTC)
            end = datetime.fromtimestamp((gap.last_minute_ns + NS_PER_MINUTE) // 1_000_000_000, UTC)
            try:
                prices = {price.start_ns: price for price in self.rest.prices(gap.epic, start, end)}
            except IgError as exc:
                self.stats.backfill_failures += 1
                logger.warning(
                    "IG live: no minute prices for the gap of %s (%s); its minutes go out as received, "
                    "marked incomplete",
                    gap.epic,
                    exc,
                )
        with self._lock:
            self._gaps.remove(gap)
            held = dict(gap.held)
        minute = gap.first_minute_ns
        while minute <= gap.last_minute_ns:
            price = prices.get(minute)
            candle = None
            if price is not None and self._market_open(minute):
                candle = candle_from_minute_price(
                    price, symbol=gap.symbol, epic=gap.epic, scale=self._scales[gap.epic]
                )
                if candle is not None:
                    self.stats.backfilled_candles += 1
            if candle is None and minute in held:
                candle = replace(held[minute], complete=False)
            if candle is not None:
                with self._lock:
                    self._emit(candle)
            minute += NS_PER_MINUTE

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            try:
                job()
            except Exception:
                logger.exception("IG live: a background job failed")
