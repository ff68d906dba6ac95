"""Route DBN records of many instruments into one bar builder per contract, and pick the front contract.

Every outright contract gets its own `MinuteBarBuilder`, so no candle ever mixes two contracts. For each
stored symbol (a pair, or a product root), the *front* contract's candles pass and the others' are
dropped. The front of a CME session is the contract that traded the most in the previous session; with
no previous session seen, the calendar rule (roll a week before the last trade date) decides, and when
that contract is absent from the data, the one with the most volume so far. The choice only changes at a
session boundary. Files and live streams use the same rule, so neither looks ahead.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from fxhub.core.bars import NS_PER_MINUTE, BarSpec, BarTarget, MinuteBarBuilder
from fxhub.errors import ValidationError
from fxhub.instruments import InstrumentTable, front_contract, load_instruments
from fxhub.model import Candle
from fxhub.sessions import cme_is_open, cme_next_close, cme_session_start
from fxhub.sources.databento.messages import (
    Records,
    book_columns,
    book_levels,
    split_by_instrument,
    trade_columns,
)
from fxhub.sources.databento.symbology import SymbolMap, outright_root, target_for

__all__ = ["DatabentoBars", "RouterStats", "cme_minute_open"]

logger = logging.getLogger(__name__)

CandleHandler = Callable[[Candle], None]


def cme_minute_open(minute_ns: int) -> bool:
    """Is the CME open at the start of this minute (Globex FX hours, holidays included)."""
    return cme_is_open(datetime.fromtimestamp(minute_ns // 1_000_000_000, UTC))


class _CmeHours:
    """`cme_session_start` and `cme_minute_open` answered from the last session looked up.

    A lookup costs about 10 µs, and a file asks once per minute and once per candle; the answer for `t`
    (the session open at `t`, or the next one) holds for every instant from `t` up to that session's close.
    """

    def __init__(self) -> None:
        self._span: tuple[datetime, datetime, datetime] | None = None  # (asked at, session open, close)

    def session_start(self, t: datetime) -> datetime:
        span = self._span
        if span is None or not span[0] <= t < span[2]:
            span = self._span = (t, cme_session_start(t), cme_next_close(t))
        return span[1]

    def minute_open(self, minute_ns: int) -> bool:
        t = datetime.fromtimestamp(minute_ns // 1_000_000_000, UTC)
        return self.session_start(t) <= t


@dataclass(slots=True)
class RouterStats:
    """What the router saw, for logs and `fxhub check`."""

    records: int = 0
    candles: int = 0
    dropped_not_front: int = 0
    skipped_instruments: dict[int, str] = field(default_factory=dict)  # id → why
    last_candle: dict[str, Candle] = field(default_factory=dict)  # symbol → newest candle emitted


class _FrontSelector:
    """Per stored symbol: which contract is the front in each CME session."""

    def __init__(self) -> None:
        self._volume: dict[tuple[datetime, str], float] = defaultdict(float)  # (session, contract)
        self._total: dict[str, float] = defaultdict(float)
        self._front: dict[datetime, str] = {}
        self._seen: set[str] = set()
        self._sessions: list[datetime] = []

    def saw(self, contract: str) -> None:
        """A contract's first record arrived: it is a candidate from now on."""
        self._seen.add(contract)

    def observe(self, candle: Candle, session: datetime) -> None:
        assert candle.instrument is not None
        self._volume[(session, candle.instrument)] += candle.volume
        self._total[candle.instrument] += candle.volume

    def front(self, session: datetime, root: str, candidate: str) -> str:
        chosen = self._front.get(session)
        if chosen is not None:
            return chosen
        # With one contract in the data so far there is nothing to choose.
        chosen = candidate if len(self._seen) <= 1 else self._choose(session, root)
        self._front[session] = chosen
        self._sessions.append(session)
        self._sessions.sort()
        return chosen

    def _choose(self, session: datetime, root: str) -> str:
        previous = [s for s in self._sessions if s < session]
        if previous:
            last = previous[-1]
            leaders = {c: self._volume[(last, c)] for c in self._seen}
            return max(sorted(leaders), key=lambda c: leaders[c])
        calendar = front_contract(root, session).raw_symbol
        return calendar if calendar in self._seen else max(sorted(self._seen), key=lambda c: self._total[c])


class DatabentoBars:
    """Turns DBN record arrays (any schema mix, any instruments) into front-contract candles."""

    def __init__(
        self,
        handler: CandleHandler,
        *,
        spec: BarSpec | None = None,
        table: InstrumentTable | None = None,
        market_open: Callable[[int], bool] | None = None,
        symbols: SymbolMap | None = None,
    ) -> None:
        """`market_open`: minute start (ns) → does the market trade then; CME Globex hours by default."""
        self._handler = handler
        self.spec = spec or BarSpec()
        self._table = table or load_instruments()
        self._market_open = market_open or _CmeHours().minute_open
        self._sessions = _CmeHours()  # its own cache: candles are routed in time order, minutes per builder
        self.symbols = symbols or SymbolMap()
        self._builders: dict[int, MinuteBarBuilder] = {}
        self._selectors: dict[str, _FrontSelector] = defaultdict(_FrontSelector)
        self.stats = RouterStats()
        self._emitted: list[tuple[Candle, str, str]] = []  # (candle, root, contract) awaiting routing
        self.gaps: list[tuple[int, int]] = []  # open feed gaps (start_ns, end_ns), not yet backfilled

    def mark_gap(self, start_ns: int, end_ns: int) -> None:
        """The feed lost data in [start_ns, end_ns]: minutes touching it are emitted `complete=False`
        until `resolve_gap` (after a backfill has replaced them)."""
        self.gaps.append((start_ns, end_ns))

    def resolve_gap(self, start_ns: int, end_ns: int) -> None:
        self.gaps = [g for g in self.gaps if g != (start_ns, end_ns)]

    def touches_gap(self, minute_ns: int) -> bool:
        end = minute_ns + NS_PER_MINUTE
        return any(start < end and minute_ns <= stop for start, stop in self.gaps)

    def add_records(self, records: Records) -> None:
        """A time-ordered chunk of records of one schema (MBP-10, MBP-1, TBBO or trades)."""
        if not len(records):
            return
        self.stats.records += len(records)
        levels = book_levels(records)
        for instrument_id, rows in split_by_instrument(records).items():
            builder = self._builder(instrument_id, levels)
            if builder is not None:
                builder.add(trade_columns(rows), book_columns(rows, levels))
        self._route_emitted()

    def advance(self, now_ns: int) -> None:
        """The feeds are quiet at `now_ns`: let every builder close what the grace allows."""
        for builder in self._builders.values():
            builder.advance(now_ns)
        self._route_emitted()

    def flush(self) -> None:
        for builder in self._builders.values():
            builder.flush()
        self._route_emitted()

    def _builder(self, instrument_id: int, levels: int) -> MinuteBarBuilder | None:
        builder = self._builders.get(instrument_id)
        if builder is not None or instrument_id in self.stats.skipped_instruments:
            return builder
        raw = self.symbols.get(instrument_id)
        if raw is None:
            self.stats.skipped_instruments[instrument_id] = "no symbol mapping"
            logger.warning("instrument %d has no symbol mapping: its records are skipped", instrument_id)
            return None
        target = target_for(raw, self._table)
        if target is None:
            self.stats.skipped_instruments[instrument_id] = f"{raw} is not an outright future"
            logger.info("skipping %s (instrument %d): not an outright future", raw, instrument_id)
            return None
        self._selectors[target.symbol].saw(raw)
        builder = MinuteBarBuilder(
            target, self.spec, self._collect(target), self._market_open, levels=max(levels, 1)
        )
        self._builders[instrument_id] = builder
        return builder

    def _collect(self, target: BarTarget) -> CandleHandler:
        root = outright_root(target.instrument)
        if root is None:  # target_for only accepts outrights
            raise ValidationError("instrument", target.instrument, "must be an outright future")
        return lambda candle: self._emitted.append((candle, root, target.instrument))

    def _route_emitted(self) -> None:
        """Route what the builders emitted, in time order, so a session's front is chosen with the whole
        previous session seen, however the input was chunked."""
        emitted, self._emitted = self._emitted, []
        emitted.sort(key=lambda item: (item[0].timestamp, item[2]))
        for candle, root, contract in emitted:
            selector = self._selectors[candle.symbol]
            session = self._sessions.session_start(candle.timestamp)
            selector.observe(candle, session)
            if selector.front(session, root, contract) != contract:
                self.stats.dropped_not_front += 1
                continue
            if self.gaps and self.touches_gap(int(candle.timestamp.timestamp()) * 1_000_000_000):
                candle = replace(candle, complete=False)
            self.stats.candles += 1
            self.stats.last_candle[candle.symbol] = candle
            self._handler(candle)
