"""A Lightstreamer server speaking TLCP-2.4.0, on loopback, for the real lightstreamer-client-lib 1.0.3.

What the 1.0.3 client does on the wire (read from its source and seen here):

- it opens a WebSocket at ``/lightstreamer`` with the subprotocol ``TLCP-2.4.0.lightstreamer.com`` and
  sends ``wsok`` then ``create_session\\r\\nLS_user=..&LS_cid=..&LS_send_sync=false&LS_cause=api&
  LS_password=..`` in one frame each (``LS_keepalive_millis`` once a server has named one; HTTP
  ``create_session.txt`` + ``bind_session.txt`` streaming only when WebSockets fail or HTTP is forced);
- subscriptions go as ``control\\r\\nLS_reqId=N&LS_op=add&LS_subId=N&LS_mode=..&LS_group=..&LS_schema=..
  &LS_snapshot=..`` frames on the same WebSocket;
- when the socket dies it first tries to *recover* the session over **HTTP**: ``POST
  /lightstreamer/bind_session.txt`` with ``LS_session``, ``LS_recovery_from=<count of data notifications
  it has seen>``, ``LS_polling=true``, ``LS_polling_millis=0``; after ``LOOP`` it binds a fresh WebSocket
  (``wsok`` + ``bind_session``). ``CONERR,4`` to the recovery makes it create a new session (with
  ``LS_old_session``) and subscribe everything again;
- it notices a dead socket by silence (``LS_cause=ws.stalled``: keepalive + stalled + reconnect
  timeouts), since aiohttp ends its WebSocket read loop quietly on a TCP abort; the stand-in sends
  ``PROBE`` every `keepalive_ms` so that a live socket is never silent.

So this stand-in serves both: WebSocket and the HTTP ``*.txt`` requests, under Starlette on uvicorn
(whose WebSocket side is the ``websockets`` library). The test thread drives it: `push` an update to
an item (encoded against the last values sent, with the compact encodings), `drop` every connection
(optionally with updates that happen while the client is away), `recovery = "refuse"` to force a new
session, `accepted_protocol` to answer ``CONERR,65`` as IG does to a protocol it does not speak.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import parse_qsl, quote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect
from threaded_server import ThreadedServer

Values = Mapping[str, str | None]

SUBPROTOCOL_SUFFIX = ".lightstreamer.com"
REQUEST_LIMIT = 50000
SNAPSHOT_LENGTH = 1  # DISTINCT snapshot: the last update of the item, as IG does for ticks
WAIT_SECONDS = 10.0
_SAFE = " .:_-+/"  # left as they are; everything else that could confuse the line format is %-encoded


def encode_value(value: str | None, *, encode_all: bool = False) -> str:
    """One field as TLCP writes a *changed* value: ``#`` null, ``$`` empty, else percent-encoded.

    `encode_all` percent-encodes every character but letters and digits (a server may encode any byte).
    """
    if value is None:
        return "#"
    if value == "":
        return "$"
    if encode_all:
        return "".join(
            char if char.isalnum() else "".join(f"%{b:02X}" for b in char.encode()) for char in value
        )
    return quote(value, safe=_SAFE)


def encode_update(
    previous: Sequence[str | None] | None, values: Sequence[str | None], *, encode_all: bool = False
) -> str:
    """The field part of a ``U`` line: unchanged fields as empty, runs of 2+ as ``^N``."""
    parts: list[str] = []
    run = 0

    def end_run() -> None:
        nonlocal run
        if run == 1:
            parts.append("")
        elif run > 1:
            parts.append(f"^{run}")
        run = 0

    for index, value in enumerate(values):
        if previous is not None and previous[index] == value:
            run += 1
            continue
        end_run()
        parts.append(encode_value(value, encode_all=encode_all))
    end_run()
    return "|".join(parts)


@dataclass
class TlcpRequest:
    """One request as the stand-in saw it (the password masked)."""

    transport: Literal["ws", "http"]
    name: str
    params: dict[str, str]


@dataclass
class _Sub:
    sub_id: int
    mode: str
    items: list[str]
    fields: list[str]
    snapshot: bool
    last: dict[int, list[str | None]] = field(default_factory=dict)


@dataclass
class _Session:
    id: str
    subs: dict[int, _Sub] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)  # data notifications, counted by the client's "prog"
    out: asyncio.Queue[str] | None = None  # the attached streaming connection
    closed: bool = False


class TlcpStandin:
    """The server state plus the test-side controls; run it with `start()` / `stop()`."""

    def __init__(
        self,
        *,
        user: str | None = None,
        password: str | None = None,
        accepted_protocol: str = "TLCP-2.4.0",
        keepalive_ms: int = 1000,
        unknown_items: frozenset[str] = frozenset(),
        first_websocket_delay_s: float = 0.0,
    ) -> None:
        self.user = user
        self.password = password
        self.accepted_protocol = accepted_protocol
        self.keepalive_ms = keepalive_ms
        self.unknown_items = unknown_items
        self.first_websocket_delay_s = first_websocket_delay_s  # a slow proxy in front of the first socket
        self._websockets_opened = 0
        self.recovery: Literal["replay", "refuse"] = "replay"
        self.encode_all = False
        self.requests: list[TlcpRequest] = []
        self.sent: list[str] = []  # every line written to any client, in order
        self.sessions: dict[str, _Session] = {}
        self.sessions_created = 0
        self.recoveries = 0
        self.refused_recoveries = 0
        self._ids = itertools.count(1)
        self._item_values: dict[str, dict[str, str | None]] = {}
        self._recent: dict[str, deque[dict[str, str | None]]] = {}
        self._changed = threading.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: ThreadedServer | None = None
        self.port = 0
        self.app = Starlette(
            routes=[
                WebSocketRoute("/lightstreamer", self._websocket),
                Route("/lightstreamer/{name}.txt", self._http, methods=["POST"]),
            ],
            lifespan=self._lifespan,
        )

    # -- running -----------------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        self._loop = asyncio.get_running_loop()
        yield

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> TlcpStandin:
        self._runner = ThreadedServer(self.app, "tlcp-standin", lifespan="on", timeout_graceful_shutdown=1)
        self.port = self._runner.start(WAIT_SECONDS)
        return self

    def stop(self) -> None:
        if self._runner is None:
            return
        with contextlib.suppress(RuntimeError):
            self._call(self._abort_connections)
        self._runner.stop(WAIT_SECONDS)

    def _call(self, fn: Callable[[], None]) -> None:
        """Run `fn` on the server's loop and wait for it."""
        assert self._loop is not None

        async def run() -> None:
            fn()

        asyncio.run_coroutine_threadsafe(run(), self._loop).result(WAIT_SECONDS)

    def _notify_waiters(self) -> None:
        with self._changed:
            self._changed.notify_all()

    def wait_until(self, predicate: Callable[[], bool], timeout_s: float = WAIT_SECONDS) -> None:
        """Block the test until `predicate()` holds (checked whenever the server state changes)."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"the TLCP stand-in waited {timeout_s} s in vain")
                self._changed.wait(min(left, 0.05))

    # -- test controls -----------------------------------------------------------------------------

    def subscriptions(self, item: str) -> int:
        """How many subscriptions to `item` the server has accepted, over all sessions so far."""
        return sum(1 for request in self.requests if request.name == "control" and self._adds(request, item))

    @staticmethod
    def _adds(request: TlcpRequest, item: str) -> bool:
        return request.params.get("LS_op") == "add" and item in request.params.get("LS_group", "").split()

    def wait_subscribed(self, item: str, count: int = 1, timeout_s: float = WAIT_SECONDS) -> None:
        self.wait_until(lambda: self._active(item) and self.subscriptions(item) >= count, timeout_s)

    def _active(self, item: str) -> bool:
        return any(
            not session.closed and session.out is not None and item in sub.items
            for session in list(self.sessions.values())
            for sub in list(session.subs.values())
        )

    def push(self, item: str, values: Values) -> None:
        """An update of `item` to every session subscribed to it (fields not given stay unchanged)."""
        self._call(lambda: self._push(item, values))

    def overflow(self, item: str, lost: int) -> None:
        """Tell every session subscribed to `item` that `lost` of its updates were dropped (``OV``)."""

        def send() -> None:
            for session in self.sessions.values():
                for sub in session.subs.values():
                    if item in sub.items and not session.closed:
                        self._send(session, f"OV,{sub.sub_id},{sub.items.index(item) + 1},{lost}", data=True)

        self._call(send)

    def drop(self, *, lost: Sequence[tuple[str, Values]] = ()) -> None:
        """Cut every connection (a TCP abort, no END); `lost` updates happen while the client is away."""

        def cut() -> None:
            for session in self.sessions.values():
                session.out = None
            for item, values in lost:
                self._push(item, values)
            self._abort_connections()

        self._call(cut)

    def _abort_connections(self) -> None:
        assert self._runner is not None
        for connection in list(self._runner.server.server_state.connections):
            transport = getattr(connection, "transport", None)
            if transport is not None:
                transport.abort()

    # -- server side: state ------------------------------------------------------------------------

    def _record(self, transport: Literal["ws", "http"], name: str, params: dict[str, str]) -> None:
        shown = dict(params)
        if "LS_password" in shown:
            shown["LS_password"] = "****"
        self.requests.append(TlcpRequest(transport, name, shown))
        self._notify_waiters()

    def _send(self, session: _Session, line: str, *, data: bool) -> None:
        if data:
            session.log.append(line)
        if session.out is not None:
            session.out.put_nowait(line)

    def _push(self, item: str, values: Values) -> None:
        merged = self._item_values.setdefault(item, {})
        merged.update(values)
        self._recent.setdefault(item, deque(maxlen=SNAPSHOT_LENGTH)).append(dict(merged))
        for session in self.sessions.values():
            if session.closed:
                continue
            for sub in session.subs.values():
                if item in sub.items:
                    self._send_update(session, sub, sub.items.index(item) + 1, merged)
        self._notify_waiters()

    def _send_update(self, session: _Session, sub: _Sub, index: int, values: Values) -> None:
        row = [values.get(name) for name in sub.fields]
        previous = sub.last.get(index)
        sub.last[index] = row
        fields = encode_update(previous, row, encode_all=self.encode_all)
        self._send(session, f"U,{sub.sub_id},{index},{fields}", data=True)

    def _new_session(self) -> _Session:
        session = _Session(id=f"S{next(self._ids):04x}standin")
        self.sessions[session.id] = session
        self.sessions_created += 1
        return session

    def _check_create(self, params: Mapping[str, str], protocol: str | None) -> str | None:
        """None if the session may be created, else the CONERR line."""
        if protocol != self.accepted_protocol:
            return "CONERR,65,Unsupported protocol version"
        if self.user is not None and params.get("LS_user") != self.user:
            return "CONERR,1,User/password check failed"
        if self.password is not None and params.get("LS_password") != self.password:
            return "CONERR,1,User/password check failed"
        return None

    def _conok(self, session: _Session) -> str:
        return f"CONOK,{session.id},{REQUEST_LIMIT},{self.keepalive_ms},*"

    def _control(self, session: _Session, params: Mapping[str, str]) -> str:
        """Apply one control request; returns the REQOK/REQERR line (notifications go on the stream)."""
        req_id = params.get("LS_reqId", "")
        op = params.get("LS_op")
        if op == "add":
            items = params.get("LS_group", "").split()
            if any(item in self.unknown_items for item in items):
                return f"REQERR,{req_id},21,Bad Group name"
            sub = _Sub(
                sub_id=int(params["LS_subId"]),
                mode=params.get("LS_mode", "MERGE"),
                items=items,
                fields=params.get("LS_schema", "").split(),
                snapshot=params.get("LS_snapshot", "false") != "false",
            )
            session.subs[sub.sub_id] = sub
            self._later(lambda: self._subscribed(session, sub))
            return f"REQOK,{req_id}"
        if op == "delete":
            sub_id = int(params.get("LS_subId", "0"))
            if session.subs.pop(sub_id, None) is not None:
                self._later(lambda: self._send(session, f"UNSUB,{sub_id}", data=True))
            return f"REQOK,{req_id}"
        if op == "destroy":
            session.closed = True
            self._later(lambda: self._end(session, 31, "Destroyed by the client"))
            return f"REQOK,{req_id}"
        return f"REQOK,{req_id}"  # constrain, force_rebind, ...: accepted and ignored

    def _later(self, fn: Callable[[], None]) -> None:
        assert self._loop is not None
        self._loop.call_soon(fn)

    def _subscribed(self, session: _Session, sub: _Sub) -> None:
        self._send(session, f"SUBOK,{sub.sub_id},{len(sub.items)},{len(sub.fields)}", data=True)
        for index, item in enumerate(sub.items, start=1):
            if sub.snapshot and sub.mode == "DISTINCT":
                for values in self._recent.get(item, ()):
                    self._send_update(session, sub, index, values)
                self._send(session, f"EOS,{sub.sub_id},{index}", data=True)
            elif sub.snapshot and item in self._item_values:
                self._send_update(session, sub, index, self._item_values[item])
        self._notify_waiters()

    def _end(self, session: _Session, code: int, message: str) -> None:
        if session.out is not None:
            session.out.put_nowait(f"END,{code},{quote(message, safe=_SAFE)}")
            session.out = None

    # -- server side: WebSocket --------------------------------------------------------------------

    async def _websocket(self, websocket: WebSocket) -> None:
        offered = list(websocket.scope.get("subprotocols", []))
        chosen = offered[0] if offered else None
        protocol = chosen.removesuffix(SUBPROTOCOL_SUFFIX) if chosen else None
        self._websockets_opened += 1
        if self._websockets_opened == 1 and self.first_websocket_delay_s:
            await asyncio.sleep(self.first_websocket_delay_s)
        await websocket.accept(subprotocol=chosen)
        out: asyncio.Queue[str] = asyncio.Queue()
        sender = asyncio.create_task(self._ws_sender(websocket, out))
        session: _Session | None = None
        try:
            while True:
                frame = await websocket.receive_text()
                name, _, rest = frame.partition("\r\n")
                lines = [line for line in rest.split("\r\n") if line] or [""]
                for line in lines:
                    params = dict(parse_qsl(line, keep_blank_values=True))
                    self._record("ws", name, params)
                    session = self._ws_request(name, params, protocol, out, session)
        except WebSocketDisconnect:
            pass
        finally:
            if session is not None and session.out is out:
                session.out = None
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender

    def _ws_request(
        self,
        name: str,
        params: dict[str, str],
        protocol: str | None,
        out: asyncio.Queue[str],
        session: _Session | None,
    ) -> _Session | None:
        if name == "wsok":
            out.put_nowait("WSOK")
        elif name == "create_session":
            refusal = self._check_create(params, protocol)
            if refusal is not None:
                out.put_nowait(refusal)
                return session
            session = self._new_session()
            out.put_nowait(self._conok(session))
            session.out = out
        elif name == "bind_session":
            bound = self.sessions.get(params.get("LS_session", ""))
            if bound is None or bound.closed:
                out.put_nowait("CONERR,20,Session not found")
                return session
            session = bound
            out.put_nowait(self._conok(session))
            session.out = out
        elif name == "control" and session is not None:
            out.put_nowait(self._control(session, params))
        self._notify_waiters()
        return session

    async def _ws_sender(self, websocket: WebSocket, out: asyncio.Queue[str]) -> None:
        while True:
            try:
                line = await asyncio.wait_for(out.get(), self.keepalive_ms / 1000)
            except TimeoutError:
                line = "PROBE"
            self.sent.append(line)
            try:
                await websocket.send_text(line + "\r\n")
                if line.startswith(("END", "CONERR")):
                    await websocket.close()
                    return
            except (WebSocketDisconnect, RuntimeError, OSError):
                return  # the client is gone; the receiving side ends the connection

    # -- server side: HTTP -------------------------------------------------------------------------

    async def _http(self, request: Request) -> Response:
        name = request.path_params["name"]
        body = (await request.body()).decode("utf-8")
        lines = [line for line in body.split("\r\n") if line] or [""]
        params = dict(parse_qsl(lines[0], keep_blank_values=True))
        self._record("http", name, params)
        if name == "create_session":
            refusal = self._check_create(params, request.query_params.get("LS_protocol"))
            if refusal is not None:
                return self._lines([refusal])
            return self._bind_http(self._new_session(), params)
        if name == "bind_session":
            bound = self.sessions.get(params.get("LS_session", ""))
            if bound is None or bound.closed:
                return self._lines(["CONERR,20,Session not found"])
            if "LS_recovery_from" in params:
                return self._recover(bound, int(params["LS_recovery_from"]))
            return self._bind_http(bound, params)
        if name == "control":
            session = self.sessions.get(request.query_params.get("LS_session", ""))
            if session is None:
                return self._lines(["ERROR,20,Session not found"])
            answers = []
            for line in lines:
                control = dict(parse_qsl(line, keep_blank_values=True))
                if line is not lines[0]:
                    self._record("http", name, control)
                answers.append(self._control(session, control))
            return self._lines(answers)
        return self._lines(["REQOK"])  # heartbeat, msg

    def _lines(self, lines: list[str]) -> Response:
        self.sent.extend(lines)
        return PlainTextResponse("".join(line + "\r\n" for line in lines))

    def _recover(self, session: _Session, recovery_from: int) -> Response:
        if self.recovery == "refuse" or recovery_from > len(session.log):
            self.refused_recoveries += 1
            session.closed = True
            self._notify_waiters()
            return self._lines(["CONERR,4,Recovery not possible"])
        self.recoveries += 1
        self._notify_waiters()
        return self._lines(
            [self._conok(session), f"PROG,{recovery_from}", *session.log[recovery_from:], "LOOP,0"]
        )

    def _bind_http(self, session: _Session, params: Mapping[str, str]) -> Response:
        if params.get("LS_polling") == "true":
            return self._lines([self._conok(session), "LOOP,0"])
        out: asyncio.Queue[str] = asyncio.Queue()
        out.put_nowait(self._conok(session))
        session.out = out

        async def stream() -> AsyncIterator[str]:
            try:
                while True:
                    try:
                        line = await asyncio.wait_for(out.get(), self.keepalive_ms / 1000)
                    except TimeoutError:
                        line = "PROBE"
                    self.sent.append(line)
                    yield line + "\r\n"
            finally:
                if session.out is out:
                    session.out = None

        return StreamingResponse(stream(), media_type="text/enriched")
