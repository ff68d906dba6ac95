"""A loopback stand-in for Databento's live subscription gateway, good enough for the real `databento.Live`.

The wire protocol, as the databento 0.88 client speaks it (`databento/live/gateway.py`, `protocol.py`):

- control messages are text lines of `key=value` fields joined by `|`;
- the gateway greets with `lsg_version=...` and challenges with `cram=...`;
- the client answers `auth=<sha256hex(cram|key)>-<last 5 of key>|dataset=...|encoding=dbn|ts_out=0|
  compression=none|heartbeat_interval_s=N|client=...`; the gateway replies `success=1|session_id=...`
  or `success=0|error=...` (and closes);
- the client sends `schema=...|stype_in=...|symbols=a,b|[start=ns|]snapshot=0|id=N|is_last=1` lines
  (symbol lists batched by 500), then `start_session=0`;
- from then on the gateway sends binary DBN: Metadata, then records (SystemMsg subscription
  acknowledgements, SymbolMappingMsg per instrument, data, SystemMsg heartbeats when idle).

The served market is one or more DBN files merged by `ts_event`. Market time runs at `speed` × wall time
from the moment the first session starts (`market_now_ns`); a live session sends the records whose time
has come, a session with `start=` first replays everything from `start` up to now at once. Records lost
while a client is away stay lost to its live sessions (as at Databento), so a reconnect makes a real gap.

Scenario knobs: refuse authentication, reset the connection (TCP RST) after N data records of a live
session, close it cleanly (EOF) after N records or at the end of the data, delay the greeting of the
connection after a drop (the market moves on meanwhile), and the heartbeat interval.
"""

from __future__ import annotations

import asyncio
import bisect
import csv
import hashlib
import itertools
import secrets
import socket
import struct
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import databento as db
import databento_dbn as dbn

__all__ = [
    "LIVE_API_KEY",
    "LIVE_MINUTES",
    "LIVE_START",
    "ConnectionLog",
    "LiveGateway",
    "Market",
    "Scenario",
    "challenge_response",
    "truth_volumes",
]

# The market the live tests serve: six simulated minutes of a Tuesday afternoon in London, when the CME
# is open and every product trades every minute; and the key the stand-in accepts.
LIVE_START: Final = datetime(2025, 11, 4, 14, 0, tzinfo=UTC)
LIVE_MINUTES: Final = 6
LIVE_API_KEY: Final = "db-FxhubStandInKeyForTests0001"

LSG_VERSION: Final = "0.0.0-fxhub-stand-in"
TICK_SECONDS: Final = 0.004  # how often a session looks for records whose time has come
DEFAULT_HEARTBEAT_SECONDS: Final = 30.0
UNDEF_TIMESTAMP: Final = 2**64 - 1
_BUCKET_ID_CHARS: Final = 5


@dataclass(slots=True)
class Scenario:
    """What the stand-in does; knobs that fire once are cleared when they fire."""

    speed: float = 60.0  # market seconds per wall second
    heartbeat_interval_s: float | None = None  # None: what the client asked for
    refuse_auth: bool = False
    drop_after_records: int | None = None  # reset the first live session that sent this many records
    eof_after_records: int | None = None  # close the first live session that sent this many, cleanly
    eof_at_end: bool = False  # close live sessions cleanly once the data is exhausted
    reconnect_delay_s: float = 0.0  # greeting delay of the next connection after a drop or EOF
    clock_start_ns: int | None = None  # market time when the clock starts (default: the data's first minute)


@dataclass(slots=True)
class ConnectionLog:
    """What happened on one connection, for assertions."""

    number: int
    session_id: str | None = None
    auth: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    subscriptions: list[dict[str, str]] = field(default_factory=list)
    started: bool = False
    replay_start_ns: int | None = None
    metadata_start_ns: int | None = None
    records_sent: int = 0
    heartbeats_sent: int = 0
    first_ts_ns: int | None = None
    last_ts_ns: int | None = None
    ended: str | None = None  # "reset", "eof", "client closed", "refused"


@dataclass(frozen=True, slots=True)
class _Record:
    ts_event: int
    instrument_id: int
    schema: str
    raw: bytes


class Market:
    """The records of some DBN files merged in time order, with their raw symbols."""

    def __init__(self, paths: Sequence[Path]) -> None:
        records: list[_Record] = []
        self.raw_symbols: dict[int, str] = {}
        self.dataset = ""
        for path in paths:
            store = db.DBNStore.from_file(path)
            self.dataset = str(store.metadata.dataset)
            schema = str(store.metadata.schema)
            for raw_symbol, intervals in store.metadata.mappings.items():
                for interval in intervals:
                    self.raw_symbols[int(interval["symbol"])] = raw_symbol
            array = store.to_ndarray()
            width = array.dtype.itemsize
            blob = array.tobytes()
            for i, (ts, iid) in enumerate(zip(array["ts_event"], array["instrument_id"], strict=True)):
                records.append(_Record(int(ts), int(iid), schema, blob[i * width : (i + 1) * width]))
        records.sort(key=lambda r: r.ts_event)  # stable: each file keeps its own order
        self.records = records
        self.ts = [r.ts_event for r in records]
        if not records:
            raise ValueError(f"no records in {[str(p) for p in paths]}")
        self.origin_ns = records[0].ts_event // 60_000_000_000 * 60_000_000_000

    def matching(self, subscription: dict[str, str]) -> set[int]:
        """Instrument ids a subscription line selects (parent `6E.FUT`, raw symbols, or ALL_SYMBOLS)."""
        symbols = subscription.get("symbols", "").split(",")
        stype = subscription.get("stype_in", "raw_symbol")
        ids = set()
        for iid, raw in self.raw_symbols.items():
            for symbol in symbols:
                if (
                    symbol == "ALL_SYMBOLS"
                    or (stype == "parent" and symbol.endswith(".FUT") and raw.startswith(symbol[:-4]))
                    or (stype == "raw_symbol" and raw == symbol)
                    or (stype == "instrument_id" and symbol == str(iid))
                ):
                    ids.add(iid)
        return ids


def _fields(line: bytes) -> dict[str, str]:
    text = line.decode().strip()
    return {key: value for key, _, value in (token.partition("=") for token in text.split("|"))}


def challenge_response(cram: str, key: str) -> str:
    """What a client holding `key` must answer to `cram`."""
    return f"{hashlib.sha256(f'{cram}|{key}'.encode()).hexdigest()}-{key[-_BUCKET_ID_CHARS:]}"


class LiveGateway:
    """The stand-in, served from a background thread with its own event loop on a free loopback port."""

    def __init__(self, market: Market, api_key: str, scenario: Scenario | None = None) -> None:
        self.market = market
        self.api_key = api_key
        self.scenario = scenario or Scenario()
        self.connections: list[ConnectionLog] = []
        self.host = "127.0.0.1"
        self.port = 0
        self._clock_started_at: float | None = None
        self._delay_next_greeting = False
        self._session_ids = itertools.count(1001)
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="live-gateway", daemon=True)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------------------------------ lifecycle

    def start(self) -> LiveGateway:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(timeout=10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def _listen(self) -> asyncio.Server:
        return await asyncio.start_server(self._accept, self.host, 0)

    def close(self) -> None:
        if not self._thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    def __enter__(self) -> LiveGateway:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------------ market clock

    def market_now_ns(self) -> int:
        """Market time: `clock_start_ns` (default the data's first minute) until a session starts, then
        on at `speed` × wall time."""
        with self._lock:
            started = self._clock_started_at
        origin = self.scenario.clock_start_ns or self.market.origin_ns
        if started is None:
            return origin
        return origin + int((time.monotonic() - started) * self.scenario.speed * 1e9)

    def _start_clock(self) -> int:
        """Start the market clock if no session has yet; the market time now."""
        with self._lock:
            if self._clock_started_at is None:
                self._clock_started_at = time.monotonic()
                return self.scenario.clock_start_ns or self.market.origin_ns
        return self.market_now_ns()

    @property
    def live_sessions(self) -> list[ConnectionLog]:
        return [c for c in self.connections if c.started and c.replay_start_ns is None]

    @property
    def replay_sessions(self) -> list[ConnectionLog]:
        return [c for c in self.connections if c.started and c.replay_start_ns is not None]

    # ------------------------------------------------------------------------------------ one connection

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        log = ConnectionLog(number=len(self.connections) + 1)
        self.connections.append(log)
        try:
            await self._converse(reader, writer, log)
        except (ConnectionError, asyncio.IncompleteReadError):
            log.ended = log.ended or "client closed"
        except asyncio.CancelledError:
            writer.transport.abort()
            raise
        finally:
            self._tasks.discard(task)
            if not writer.transport.is_closing():
                writer.transport.abort()

    async def _converse(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, log: ConnectionLog
    ) -> None:
        if self._delay_next_greeting:
            self._delay_next_greeting = False
            await asyncio.sleep(self.scenario.reconnect_delay_s)
        cram = secrets.token_hex(16)
        writer.write(f"lsg_version={LSG_VERSION}\ncram={cram}\n".encode())
        log.auth = _fields(await reader.readline())
        error = self._auth_error(log.auth, cram)
        if error is not None:
            log.error, log.ended = error, "refused"
            writer.write(f"success=0|error={error}\n".encode())
            await writer.drain()
            writer.close()
            return
        log.session_id = str(next(self._session_ids))
        writer.write(f"success=1|session_id={log.session_id}\n".encode())
        while True:
            line = await reader.readline()
            if not line:
                log.ended = "client closed"
                return
            fields = _fields(line)
            if "start_session" in fields:
                break
            log.subscriptions.append(fields)
        await self._stream(reader, writer, log)

    def _auth_error(self, auth: dict[str, str], cram: str) -> str | None:
        if self.scenario.refuse_auth or auth.get("auth") != challenge_response(cram, self.api_key):
            return "Authentication failed."
        if auth.get("dataset") != self.market.dataset:
            return f"Unknown dataset {auth.get('dataset')!r}"
        if auth.get("encoding", "dbn") != "dbn" or auth.get("compression", "none") != "none":
            return "The stand-in speaks uncompressed DBN only (encoding=dbn, compression=none)"
        if auth.get("ts_out", "0") != "0":
            return "The stand-in does not append ts_out"
        return None

    async def _stream(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, log: ConnectionLog
    ) -> None:
        now = self._start_clock()
        log.started = True
        subs = log.subscriptions
        starts = [int(s["start"]) for s in subs if s.get("start")]
        replay_from = min(starts) if starts else None
        log.replay_start_ns = replay_from
        session_start = max(replay_from, 0) if replay_from is not None else now
        log.metadata_start_ns = session_start
        wanted = {(s.get("schema", ""), iid) for s in subs for iid in self.market.matching(s)}
        symbols = sorted({sym for s in subs for sym in s.get("symbols", "").split(",") if sym})
        stype_in = subs[0].get("stype_in", "raw_symbol") if subs else "raw_symbol"
        schemas = {s.get("schema", "") for s in subs}
        metadata = dbn.Metadata(
            dataset=self.market.dataset,
            start=session_start,
            stype_in=dbn.SType(stype_in),
            stype_out=dbn.SType.INSTRUMENT_ID,
            schema=dbn.Schema(next(iter(schemas))) if len(schemas) == 1 else None,
            symbols=symbols,
            partial=[],
            not_found=[],
            mappings=[],
            ts_out=False,
        )
        head = [bytes(metadata)]
        for sub in subs:
            message = f"Subscription request {sub.get('id', 0)} for {sub.get('schema')} data succeeded"
            head.append(bytes(dbn.SystemMsg(now, message, dbn.SystemCode.SUBSCRIPTION_ACK)))
        for sub in subs:
            for iid in sorted(self.market.matching(sub)):
                raw = self.market.raw_symbols[iid]
                asked = [
                    s for s in sub["symbols"].split(",") if s.endswith(".FUT") and raw.startswith(s[:-4])
                ]
                parent = asked[0] if sub.get("stype_in") == "parent" and asked else raw
                head.append(
                    bytes(
                        dbn.SymbolMappingMsg(
                            publisher_id=1,
                            instrument_id=iid,
                            ts_event=session_start,
                            stype_in=dbn.SType(sub.get("stype_in", "raw_symbol")),
                            stype_in_symbol=parent,
                            stype_out=dbn.SType.RAW_SYMBOL,
                            stype_out_symbol=raw,
                            start_ts=session_start,
                            end_ts=UNDEF_TIMESTAMP,
                        )
                    )
                )
        writer.write(b"".join(head))
        client_gone = asyncio.ensure_future(reader.read())  # the client sends nothing more; EOF = it left
        try:
            await self._pace(writer, log, wanted, session_start, client_gone)
        finally:
            client_gone.cancel()

    async def _pace(
        self,
        writer: asyncio.StreamWriter,
        log: ConnectionLog,
        wanted: set[tuple[str, int]],
        session_start: int,
        client_gone: asyncio.Future[bytes],
    ) -> None:
        market, scenario = self.market, self.scenario
        live = log.replay_start_ns is None
        cursor = bisect.bisect_left(market.ts, session_start)
        hb_interval = scenario.heartbeat_interval_s or float(
            log.auth.get("heartbeat_interval_s") or DEFAULT_HEARTBEAT_SECONDS
        )
        last_sent = time.monotonic()
        while not client_gone.done():
            now = self.market_now_ns()
            end = bisect.bisect_right(market.ts, now, lo=cursor)
            chunk: list[bytes] = []
            action: str | None = None
            for record in market.records[cursor:end]:
                if (record.schema, record.instrument_id) not in wanted:
                    continue
                chunk.append(record.raw)
                log.records_sent += 1
                log.first_ts_ns = log.first_ts_ns or record.ts_event
                log.last_ts_ns = record.ts_event
                if live and scenario.drop_after_records == log.records_sent:
                    scenario.drop_after_records, action = None, "reset"
                    break
                if live and scenario.eof_after_records == log.records_sent:
                    scenario.eof_after_records, action = None, "eof"
                    break
            cursor = end
            if chunk:
                writer.write(b"".join(chunk))
                last_sent = time.monotonic()
            elif live and scenario.eof_at_end and cursor >= len(market.records):
                action = "eof"
            elif time.monotonic() - last_sent >= hb_interval:
                writer.write(bytes(dbn.SystemMsg(now, "Heartbeat", dbn.SystemCode.HEARTBEAT)))
                log.heartbeats_sent += 1
                last_sent = time.monotonic()
            if action == "reset":
                self._reset(writer)
                log.ended = "reset"
                return
            await writer.drain()
            if action == "eof":
                self._delay_next_greeting = scenario.reconnect_delay_s > 0
                writer.close()
                await writer.wait_closed()
                log.ended = "eof"
                return
            await asyncio.wait({client_gone}, timeout=TICK_SECONDS)
        log.ended = "client closed"

    def _reset(self, writer: asyncio.StreamWriter) -> None:
        """An abrupt drop: close with SO_LINGER 0, so the client reads ECONNRESET instead of EOF."""
        self._delay_next_greeting = self.scenario.reconnect_delay_s > 0
        sock = writer.transport.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()


def truth_volumes(truth_csv: Path) -> dict[tuple[str, int], float]:
    """(pair, minute start ns) → the simulator's true CME volume, for minutes the CME was open."""
    volumes = {}
    with open(truth_csv, encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["cme_open"] == "1":
                minute = datetime.fromisoformat(row["minute_utc"].replace("Z", "+00:00"))
                volumes[(row["pair"], int(minute.timestamp()) * 1_000_000_000)] = float(row["cme_volume"])
    return volumes
