"""The hub over loopback, SQLite and PostgreSQL: latest-100 latency, 50 concurrent readers, push rate, and
whether latest-N stays flat from 10 thousand to 10 million stored candles.

Every figure runs against a real `python -m fxhub serve` process and is printed beside a baseline
measured in the same run on the same machine, so the ratios hold on a busy machine:

- push: `HubClient.push_candles` in batches of 1,000 against `store.upsert` of the same batches on a fresh
  store in this process (the ratio is what HTTP and JSON cost on top of the store); then two
  `HubClient`s at once, each in its own process, as two collectors push (later minutes, so inserts too);
- latest-100, one client: full reads (the client's page cache off, so no read is a 304; the unchanged
  page's 304 is a row of its own), against `GET /healthz` on the same client and connection. It is
  not free of the store (it runs `count()`, cheap at 10k rows), so a 404 round trip is measured too,
  as the floor of the "where a latest-100 goes" breakdown;
- 50 clients: the server's rate, from an aiohttp load generator in two processes of its own (see
  `bench.load`), against the same load on `GET /healthz`; then, as diagnostics, 50 `AsyncHubClient`s
  and 50 plain httpx clients in this process, where the Python client side is what runs out first;
- flatness: the same latest-100 at the big size against the small size, through the hot window (the
  hub's default) and with `--hot-window 0` (every read goes to the database: the honest index check).

The 10M fill does not go through the hub or the store's upsert (both far too slow here; the push rows
show how slow): the store's own rows are copied back in time inside the database (see hub_support).

`python -m bench hub` runs the defaults; options go through this module, e.g.
`python -m bench.bench_hub --big 1000000 --stores sqlite` (see `--help`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final, Protocol

import httpx
import psycopg
from rich.console import Console
from rich.table import Table

from bench.hub_support import (
    HubProcess,
    create_database,
    drop_database,
    grow_postgres,
    grow_sqlite,
    market_candles,
)
from bench.load import LoadResult, load_from_processes, push_from_processes, run_load
from bench.timing import median, percentile, repeat_seconds
from fxhub.hub.client import AsyncHubClient, HubClient
from fxhub.hub.client._protocol import parse_candles
from fxhub.hub.server.routes import page_bytes
from fxhub.hub.store import CandleStore, HotWindowStore, open_store
from fxhub.model import Candle

PUSH_CANDLES: Final = 100_000
PUSH_BATCH: Final = 1_000
SMALL: Final = 10_000
BIG: Final = 10_000_000
READS: Final = 2_000  # sequential latest-100 reads per figure at the small size
FLAT_READS: Final = 1_000  # per flatness figure
IN_PROCESS_READS: Final = 1_000
WARMUP: Final = 50
CLIENTS: Final = 50
LOAD_SECONDS: Final = 5.0
LOAD_PROCESSES: Final = 2  # aiohttp load-generator processes for the 50-client server figure
PUSH_PROCESSES: Final = 2  # collectors pushing at once for the second push figure
PAIR: Final = "EUR_USD"
LIMIT: Final = 100
TARGET_LATEST_P99_S: Final = 0.002
TARGET_READS_PER_S: Final = 2_000
TARGET_PUSH_PER_S: Final = 50_000
FLAT_RATIO: Final = 1.5
"""Our reading of "stays flat": p50 at the big size within 1.5× of the small size's (p99 shown, not judged:
on a shared 2-core machine it is mostly the neighbours)."""
PUSH_START: Final = datetime(2025, 11, 3, tzinfo=UTC)
READS_START: Final = datetime(2025, 12, 1, tzinfo=UTC)
BYTES_PER_ROW: Final = {"SQLite": 260, "PostgreSQL": 430}  # measured at 10M rows, indexes included
DEFAULT_POSTGRES: Final = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass(frozen=True, slots=True)
class Options:
    stores: tuple[str, ...]
    push: int
    small: int
    big: int
    reads: int
    clients: int
    seconds: float
    postgres: str


def parse_options(argv: Sequence[str]) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench_hub",
        description="The hub over loopback: latest-100 latency, 50 readers, push rate, latest-N flatness.",
    )
    parser.add_argument("--stores", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    parser.add_argument("--push", type=int, default=PUSH_CANDLES, help="candles pushed (batches of 1,000)")
    parser.add_argument("--small", type=int, default=SMALL, help="stored candles for the small size")
    parser.add_argument("--big", type=int, default=BIG, help="stored candles for the big size")
    parser.add_argument("--reads", type=int, default=READS, help="sequential reads per latency figure")
    parser.add_argument("--clients", type=int, default=CLIENTS, help="concurrent clients")
    parser.add_argument("--seconds", type=float, default=LOAD_SECONDS, help="duration of each load run")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("FXHUB_BENCH_POSTGRES", DEFAULT_POSTGRES),
        help="a PostgreSQL URL whose user may CREATE and DROP DATABASE (FXHUB_BENCH_POSTGRES)",
    )
    args = parser.parse_args(list(argv))
    stores = tuple(name.strip().lower() for name in args.stores.split(",") if name.strip())
    unknown = sorted(set(stores) - {"sqlite", "postgresql"})
    if unknown:
        parser.error(f"unknown store {', '.join(unknown)}; choose sqlite, postgresql")
    if not 0 < args.small < args.big:
        parser.error("need 0 < --small < --big")
    return Options(
        stores=stores,
        push=args.push,
        small=args.small,
        big=args.big,
        reads=args.reads,
        clients=args.clients,
        seconds=args.seconds,
        postgres=args.postgres,
    )


# --- the two stores --------------------------------------------------------------------------------


class Backend(Protocol):
    name: str

    def store(self, role: str) -> str: ...
    def discard(self, role: str) -> None: ...
    def grow(self, url: str, target: int) -> int: ...
    def size_bytes(self, url: str) -> int: ...
    def free_bytes(self) -> int | None: ...
    def describe(self) -> str: ...


class SqliteBackend:
    name = "SQLite"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def store(self, role: str) -> str:
        return str(self.folder / f"{role}.sqlite3")

    def discard(self, role: str) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.store(role)}{suffix}").unlink(missing_ok=True)

    def grow(self, url: str, target: int) -> int:
        return grow_sqlite(Path(url), target)

    def size_bytes(self, url: str) -> int:
        return sum(path.stat().st_size for path in Path(url).parent.glob(f"{Path(url).name}*"))

    def free_bytes(self) -> int | None:
        return shutil.disk_usage(self.folder).free

    def describe(self) -> str:
        return f"SQLite {sqlite3.sqlite_version}, files in {self.folder} (WAL, synchronous=NORMAL)"


class PostgresBackend:
    """A fresh database per role, dropped by `discard` or, at the latest, when `stack` closes."""

    name = "PostgreSQL"

    def __init__(self, admin_url: str, stack: contextlib.ExitStack) -> None:
        self.admin_url = admin_url
        self.stack = stack
        with psycopg.connect(admin_url, connect_timeout=10, autocommit=True) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            try:  # superusers and pg_read_all_settings only
                folder = conn.execute("SHOW data_directory").fetchone()
            except psycopg.Error:
                folder = None
        self.version = str(row[0]) if row else "?"
        self.data_directory = Path(str(folder[0])) if folder else None

    def _name(self, role: str) -> str:
        return f"fxhub_bench_{os.getpid()}_{role}"

    def store(self, role: str) -> str:
        name = self._name(role)
        self.stack.callback(drop_database, self.admin_url, name)
        return create_database(self.admin_url, name)

    def discard(self, role: str) -> None:
        drop_database(self.admin_url, self._name(role))

    def grow(self, url: str, target: int) -> int:
        return grow_postgres(url, target)

    def size_bytes(self, url: str) -> int:
        with psycopg.connect(url) as conn:
            row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
        return int(row[0]) if row else 0

    def free_bytes(self) -> int | None:
        if self.data_directory is None or not self.data_directory.exists():
            return None  # a server on another machine: its disk is its own business
        return shutil.disk_usage(self.data_directory).free

    def describe(self) -> str:
        host = self.admin_url.split("@")[-1].split("/")[0]
        return f"PostgreSQL {self.version} at {host}, a fresh database per run, dropped after"


# --- the report ------------------------------------------------------------------------------------


@dataclass(slots=True)
class Row:
    metric: str
    value: str
    baseline: str = ""
    ratio: str = ""
    target: str = ""
    met: bool | None = None


@dataclass(slots=True)
class Report:
    store: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    pieces: list[tuple[str, float]] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, *args: Any, **kwargs: Any) -> None:
        self.rows.append(Row(*args, **kwargs))


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms"


def per_s(rate: float) -> str:
    return f"{rate:,.0f}/s"


def times(value: float, base: float) -> str:
    return f"{value / base:.2f}×"


def count_label(n: int) -> str:
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n % 1_000 == 0:
        return f"{n // 1_000}k"
    return f"{n:,}"


def p50(values: Sequence[float]) -> float:
    return median(values)


def p99(values: Sequence[float]) -> float:
    return percentile(values, 99)


def print_report(console: Console, report: Report) -> None:
    table = Table(title=f"hub on {report.store}", title_justify="left", show_lines=False)
    for name, justify in (
        ("metric", "left"),
        ("value", "right"),
        ("baseline (same run)", "right"),
        ("ratio", "right"),
        ("target", "right"),
        ("met?", "center"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for row in report.rows:
        met = "" if row.met is None else ("[green]yes[/]" if row.met else "[red]NO[/]")
        table.add_row(row.metric, row.value, row.baseline, row.ratio, row.target, met)
    console.print(table)
    if report.pieces:
        console.print("  where a latest-100 goes (p50 of each piece, measured alone in this process):")
        for name, seconds in report.pieces:
            console.print(f"    {name:<76} {ms(seconds):>9}")
    for note in report.notes:
        console.print(f"  - {note}")
    console.print(f"  ({report.store} took {report.seconds / 60:.1f} min)\n")


# --- measurements ----------------------------------------------------------------------------------


def interleaved(
    actions: dict[str, Callable[[], object]], count: int, block: int = 100
) -> dict[str, list[float]]:
    """`count` timed runs of each action, in alternating blocks, so a noisy neighbour hits all alike."""
    out: dict[str, list[float]] = {name: [] for name in actions}
    done = 0
    while done < count:
        n = min(block, count - done)
        for name, action in actions.items():
            out[name] += repeat_seconds(action, n)
        done += n
    return out


def latest_reads(hub: HubProcess, count: int) -> tuple[list[float], list[Candle]]:
    """`count` sequential full latest-100 reads by one `HubClient` after a warm-up; the answer read."""
    with HubClient(hub.url, hub.token, timeout_s=60, cached_pages=0) as client:
        answer = client.get_latest_candles(PAIR, LIMIT)
        repeat_seconds(lambda: client.get_latest_candles(PAIR, LIMIT), WARMUP)
        return repeat_seconds(lambda: client.get_latest_candles(PAIR, LIMIT), count), answer


def _raw_get(client: httpx.Client, path: str, params: dict[str, str]) -> bytes:
    response = client.get(path, params=params)
    response.raise_for_status()
    return response.content


async def _async_raw_get(client: httpx.AsyncClient, path: str, params: dict[str, str]) -> bytes:
    response = await client.get(path, params=params)
    response.raise_for_status()
    return response.content


async def load_hub_client(hub: HubProcess, clients: int, seconds: float) -> LoadResult:
    """`clients` AsyncHubClients (one connection each) reading latest-100 back to back, in full."""
    async with contextlib.AsyncExitStack() as stack:
        readers = [
            await stack.enter_async_context(AsyncHubClient(hub.url, hub.token, timeout_s=60, cached_pages=0))
            for _ in range(clients)
        ]
        calls = [functools.partial(reader.get_latest_candles, PAIR, LIMIT) for reader in readers]
        return await run_load(calls, seconds)


async def load_raw(
    hub: HubProcess, path: str, params: dict[str, str], clients: int, seconds: float
) -> LoadResult:
    """`clients` plain httpx clients GETting `path` back to back; bodies read, not parsed."""
    headers = {"Authorization": f"Bearer {hub.token}"}
    async with contextlib.AsyncExitStack() as stack:
        raws = [
            await stack.enter_async_context(httpx.AsyncClient(base_url=hub.url, headers=headers, timeout=60))
            for _ in range(clients)
        ]
        return await run_load([functools.partial(_async_raw_get, raw, path, params) for raw in raws], seconds)


def healthz_samples(hub: HubProcess, count: int) -> tuple[list[float], list[str]]:
    """`count` timed `GET /healthz` (a 503 "degraded" answer is returned, not raised); distinct statuses."""
    seconds: list[float] = []
    statuses: set[str] = set()
    with HubClient(hub.url, hub.token, timeout_s=60) as client:
        for _ in range(count):
            began = time.perf_counter()
            statuses.add(client.health().status)
            seconds.append(time.perf_counter() - began)
    return seconds, sorted(statuses)


def in_process_latest(url: str, *, hot_window: int | None) -> float:
    """p50 of `store.latest(PAIR, 100)` on the store the hub would open (hot window or none), warm."""
    store: CandleStore = open_store(url) if hot_window is None else open_store(url, hot_window=hot_window)
    try:
        for _ in range(WARMUP):
            store.latest(PAIR, LIMIT)
        return p50(repeat_seconds(lambda: store.latest(PAIR, LIMIT), IN_PROCESS_READS))
    finally:
        store.close()


def codec_pieces(candles: list[Candle]) -> tuple[float, float]:
    """p50 of the hub's encoding of a latest-100 page (`routes.page_bytes`, what it does when no kept page
    answers) and of the client's decoding of it (`parse_candles` on an `httpx.Response` of that body)."""
    url = "http://127.0.0.1"
    body = page_bytes(PAIR, None, candles)
    response = httpx.Response(
        200, content=body, request=httpx.Request("GET", f"{url}/v1/candles/{PAIR}/latest")
    )
    if parse_candles(response, url) != candles:
        raise RuntimeError("parse_candles(page_bytes(candles)) differs from the candles")
    timed = interleaved(
        {
            "encode": lambda: page_bytes(PAIR, None, candles),
            "decode": lambda: parse_candles(response, url),
        },
        IN_PROCESS_READS,
    )
    return p50(timed["encode"]), p50(timed["decode"])


def kept_page_seconds(url: str) -> float:
    """p50 of `HotWindowStore.latest_page` once the page is kept: what the hub's latest route does."""
    store = open_store(url)
    try:
        if not isinstance(store, HotWindowStore):
            raise RuntimeError(f"open_store({url!r}) has no hot window: {store!r}")
        store.latest(PAIR, LIMIT)  # loads the windows
        encode = functools.partial(page_bytes, PAIR, None)
        for _ in range(WARMUP):
            store.latest_page(PAIR, LIMIT, None, encode)
        return p50(repeat_seconds(lambda: store.latest_page(PAIR, LIMIT, None, encode), IN_PROCESS_READS))
    finally:
        store.close()


# --- one store -------------------------------------------------------------------------------------


class Workdirs:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.made = 0

    def next(self, what: str) -> Path:
        self.made += 1
        path = self.root / f"hub-{self.made:02d}-{what}"
        path.mkdir(parents=True)
        return path


def measure_push(backend: Backend, workdirs: Workdirs, report: Report, candles: list[Candle]) -> float:
    """Push rows; returns the in-process upsert rate (candles/s) for the fill estimate."""
    batches = [candles[start : start + PUSH_BATCH] for start in range(0, len(candles), PUSH_BATCH)]
    direct = open_store(backend.store("direct"))  # what `fxhub serve` opens: the hot window in front
    try:
        began = time.perf_counter()
        for batch in batches:
            direct.upsert(batch)
        direct_s = time.perf_counter() - began
    finally:
        direct.close()
        backend.discard("direct")
    pushed = 0
    with (
        HubProcess(backend.store("push"), workdirs.next("push")) as hub,
        HubClient(hub.url, hub.token, timeout_s=60) as client,
    ):
        began = time.perf_counter()
        for batch in batches:
            pushed += client.push_candles(batch).inserted
        http_s = time.perf_counter() - began
    backend.discard("push")
    # Then PUSH_PROCESSES collectors at once into a fresh store too (a store just filled is busy with
    # its own upkeep, PostgreSQL's autovacuum for one), each pushing its share of other minutes.
    with HubProcess(backend.store("push2"), workdirs.next("push2")) as hub:
        starts = [PUSH_START + timedelta(days=30 * n) for n in range(1, PUSH_PROCESSES + 1)]
        share = len(candles) // PUSH_PROCESSES
        together = push_from_processes(hub.url, hub.token, starts, share, PUSH_BATCH)
    backend.discard("push2")
    if pushed != len(candles):
        raise RuntimeError(f"the hub inserted {pushed:,} of {len(candles):,} pushed candles")
    http_rate, direct_rate = len(candles) / http_s, len(candles) / direct_s
    report.add(
        f"push {len(candles):,} candles, batches of {PUSH_BATCH:,} (HubClient, 1 client)",
        per_s(http_rate),
        f"store.upsert in-process {per_s(direct_rate)}",
        times(http_rate, direct_rate),
        f"≥ {TARGET_PUSH_PER_S:,}/s",
        http_rate >= TARGET_PUSH_PER_S,
    )
    report.add(
        f"  same, {PUSH_PROCESSES} HubClient processes at once (all candles/s)",
        per_s(together),
        f"store.upsert in-process {per_s(direct_rate)}",
        times(together, direct_rate),
        f"≥ {TARGET_PUSH_PER_S:,}/s",
        together >= TARGET_PUSH_PER_S,
    )
    return direct_rate


@dataclass(frozen=True, slots=True)
class SmallReads:
    """One client's sequential latencies at the small size, hot window on."""

    latest: list[float]  # HubClient.get_latest_candles
    raw: list[float]  # the same GET by plain httpx, body read but not parsed
    healthz: list[float]  # HubClient.health on the same client
    floor: list[float]  # a GET the router answers 404: no auth, no store, no thread hop
    answer: list[Candle]


def measure_small(hub: HubProcess, options: Options, report: Report, small: str) -> SmallReads:
    """One client and 50 clients against the hub's default hot window."""
    headers = {"Authorization": f"Bearer {hub.token}"}
    latest_path, latest_params = f"/v1/candles/{PAIR}/latest", {"limit": str(LIMIT)}
    with (
        # Full reads: without its page cache, the client's unchanged reads would all be 304s.
        HubClient(hub.url, hub.token, timeout_s=60, cached_pages=0) as client,
        HubClient(hub.url, hub.token, timeout_s=60) as conditional,
        httpx.Client(base_url=hub.url, headers=headers, timeout=60) as raw,
    ):
        answer = client.get_latest_candles(PAIR, LIMIT)
        if len(answer) != LIMIT:
            raise RuntimeError(f"latest-{LIMIT} of {PAIR} gave {len(answer)} candles")
        actions: dict[str, Callable[[], object]] = {
            "latest": lambda: client.get_latest_candles(PAIR, LIMIT),
            "unchanged": lambda: conditional.get_latest_candles(PAIR, LIMIT),
            "healthz": client.health,
            "raw": lambda: _raw_get(raw, latest_path, latest_params),
            "floor": lambda: raw.get("/v1/no-such-route").content,
        }
        interleaved(actions, WARMUP, block=WARMUP)
        timed = interleaved(actions, options.reads)
    latest, healthz, raw_latest = timed["latest"], timed["healthz"], timed["raw"]
    reads = SmallReads(latest, raw_latest, healthz, timed["floor"], answer)
    where = f"1 client, {small} stored, hot window"
    report.add(
        f"latest-100 p50, {where}",
        ms(p50(latest)),
        f"GET /healthz {ms(p50(healthz))}",
        times(p50(latest), p50(healthz)),
    )
    report.add(
        f"latest-100 p99, {where}",
        ms(p99(latest)),
        f"GET /healthz {ms(p99(healthz))}",
        times(p99(latest), p99(healthz)),
        f"≤ {ms(TARGET_LATEST_P99_S)}",
        p99(latest) <= TARGET_LATEST_P99_S,
    )
    unchanged = timed["unchanged"]
    report.add(
        "  same, page unchanged: the client's kept page, 304  p50 / p99",
        f"{ms(p50(unchanged))} / {ms(p99(unchanged))}",
        f"{ms(p50(healthz))} / {ms(p99(healthz))}",
        times(p50(unchanged), p50(healthz)),
        "diagnostic",
    )
    report.add(
        "  same, raw httpx: body read, no Candle parsing  p50 / p99",
        f"{ms(p50(raw_latest))} / {ms(p99(raw_latest))}",
        f"{ms(p50(healthz))} / {ms(p99(healthz))}",
        times(p50(raw_latest), p50(healthz)),
        "diagnostic",
    )
    n, seconds = options.clients, options.seconds
    url_path = f"{latest_path}?limit={LIMIT}"
    served = load_from_processes(hub.url, hub.token, url_path, clients=n, seconds=seconds)
    served_health = load_from_processes(hub.url, hub.token, "/healthz", clients=n, seconds=seconds)
    report.add(
        f"{n} clients latest-100 (aiohttp, {LOAD_PROCESSES} processes), reads/s",
        per_s(served.rate),
        f"/healthz {per_s(served_health.rate)}",
        times(served.rate, served_health.rate),
        f"≥ {TARGET_READS_PER_S:,}/s",
        served.rate >= TARGET_READS_PER_S,
    )
    report.add(
        f"{n} clients latest-100 (aiohttp, {LOAD_PROCESSES} processes), p99",
        ms(p99(served.latencies)),
        f"/healthz {ms(p99(served_health.latencies))}",
        times(p99(served.latencies), p99(served_health.latencies)),
    )
    by_client = asyncio.run(load_hub_client(hub, n, seconds))
    by_raw = asyncio.run(load_raw(hub, latest_path, latest_params, n, seconds))
    health = asyncio.run(load_raw(hub, "/healthz", {}, n, seconds))
    base = f"/healthz {per_s(health.rate)}"
    report.add(
        f"  same from {n} AsyncHubClients in this process  reads/s, p99",
        f"{per_s(by_client.rate)}, {ms(p99(by_client.latencies))}",
        f"{base}, {ms(p99(health.latencies))}",
        times(by_client.rate, health.rate),
        "diagnostic",
    )
    report.add(
        "  same, raw httpx in this process (no Candle parsing)  reads/s, p99",
        f"{per_s(by_raw.rate)}, {ms(p99(by_raw.latencies))}",
        f"{per_s(health.rate)}, {ms(p99(health.latencies))}",
        times(by_raw.rate, health.rate),
        "diagnostic",
    )
    return reads


def flat_row(report: Report, what: str, big: list[float], small: list[float], small_label: str) -> None:
    report.add(
        f"{what} p50",
        ms(p50(big)),
        f"{small_label} {ms(p50(small))}",
        times(p50(big), p50(small)),
        f"≤ {FLAT_RATIO}× of {small_label}",
        p50(big) <= FLAT_RATIO * p50(small),
    )
    report.add(f"{what} p99", ms(p99(big)), f"{small_label} {ms(p99(small))}", times(p99(big), p99(small)))


def run_store(backend: Backend, options: Options, root: Path, console: Console) -> Report:
    began = time.perf_counter()
    report = Report(backend.name)
    workdirs = Workdirs(root)
    small, big = count_label(options.small), count_label(options.big)
    console.print(f"[bold]{backend.name}[/]: {backend.describe()}")

    console.print(f"  push: {options.push:,} candles, in-process baseline then through the hub …")
    push_candles = market_candles(options.push, start=PUSH_START)
    upsert_rate = measure_push(backend, workdirs, report, push_candles)
    del push_candles

    reads_url = backend.store("reads")
    store = open_store(reads_url)
    try:
        store.upsert(market_candles(options.small, start=READS_START))
    finally:
        store.close()
    console.print(f"  reads at {small} stored: 1 client, then {options.clients} clients …")
    with HubProcess(reads_url, workdirs.next("hot-small")) as hub:
        reads = measure_small(hub, options, report, small)
    hot_small, healthz_small, answer = reads.latest, reads.healthz, reads.answer
    with HubProcess(reads_url, workdirs.next("db-small"), hot_window=0) as hub:
        db_small, _ = latest_reads(hub, FLAT_READS)
    store_small = in_process_latest(reads_url, hot_window=0)
    hot_store_small = in_process_latest(reads_url, hot_window=None)
    encode_s, decode_s = codec_pieces(answer)
    kept_s = kept_page_seconds(reads_url)
    report.add(
        f"latest-100 p50, DB path (--hot-window 0), {small} stored",
        ms(p50(db_small)),
        f"hot window {ms(p50(hot_small))}",
        times(p50(db_small), p50(hot_small)),
    )
    floor, raw_small, end_to_end = p50(reads.floor), p50(reads.raw), p50(hot_small)
    report.pieces = [
        ("HTTP round trip floor: a GET the router answers 404 (no auth, no store)", floor),
        (f"hub: the kept page from the hot window (latest_page, in-process, {small})", kept_s),
        (
            "hub: route, auth, query checks, metrics (raw GET − the two above)",
            max(0.0, raw_small - floor - kept_s),
        ),
        ("  not per read: encode 100 candles (page_bytes), once per write to the pair", encode_s),
        (f"  not per read: store.latest through the hot window (in-process, {small})", hot_store_small),
        ("client: decode (parse_candles: orjson + Candle._from_trusted_dict ×100)", decode_s),
        (
            "client: the rest of HubClient (its p50 − raw GET − decode)",
            max(0.0, end_to_end - raw_small - decode_s),
        ),
        ("end to end: HubClient latest-100 p50", end_to_end),
        (f"for the DB path: store.latest with hot window 0 (in-process, {small})", store_small),
    ]

    target = options.big
    free = backend.free_bytes()
    need = target * BYTES_PER_ROW[backend.name]
    if free is not None and need > 0.8 * free:
        target = max(
            options.small * 2, int(0.8 * free / BYTES_PER_ROW[backend.name]) // options.small * options.small
        )
        report.notes.append(
            f"{big} rows would need ~{need / 1e9:.1f} GB and {free / 1e9:.1f} GB are free: grew to "
            f"{target:,} instead"
        )
        big = count_label(target)
    console.print(f"  growing the store {small} → {big} (hub stopped, SQL copies of the store's rows) …")
    fill_began = time.perf_counter()
    added = backend.grow(reads_url, target)
    fill_s = time.perf_counter() - fill_began
    stored = options.small + added
    size_gb = backend.size_bytes(reads_url) / 1e9
    report.notes.append(
        f"filled {small} → {stored:,} rows in {fill_s:.0f} s ({added / fill_s:,.0f} rows/s, {size_gb:.2f} GB "
        "now) by copying the store's own rows back in time inside the database; its upsert at the "
        f"{per_s(upsert_rate)} measured above would have taken {added / upsert_rate / 60:.0f} min"
    )

    console.print(f"  reads at {big} stored: database path, then hot window, then /healthz …")
    with HubProcess(reads_url, workdirs.next("db-big"), hot_window=0) as hub:
        db_big, answer_big = latest_reads(hub, FLAT_READS)
    store_big = in_process_latest(reads_url, hot_window=0)
    with HubProcess(reads_url, workdirs.next("hot-big")) as hub:
        hot_big, hot_answer_big = latest_reads(hub, FLAT_READS)
        # Last: on a big PostgreSQL table each /healthz leaves a count running after its 2 s limit.
        health_s, statuses = healthz_samples(hub, 3)
    if answer_big != answer or hot_answer_big != answer:
        raise RuntimeError(
            f"latest-{LIMIT} at {big} differs from {small}: the fill should only add older rows"
        )

    flat_row(report, f"latest-100, DB path (--hot-window 0), {big} stored,", db_big, db_small, small)
    flat_row(report, f"latest-100, hot window, {big} stored,", hot_big, hot_small, small)
    report.add(
        f"store.latest in-process, DB path, {big} stored, p50",
        ms(store_big),
        f"{small} {ms(store_small)}",
        times(store_big, store_small),
        f"≤ {FLAT_RATIO}× of {small}",
        store_big <= FLAT_RATIO * store_small,
    )
    report.add(
        f"GET /healthz, {big} stored (counts every row), median of 3",
        f"{ms(median(health_s))} {'/'.join(statuses)}",
        f"{small} {ms(p50(healthz_small))}",
        times(median(health_s), p50(healthz_small)),
        "status ok (2 s limit)",
        statuses == ["ok"],
    )
    report.notes.append(
        "latencies are wall-clock per request after a warm-up of "
        f"{WARMUP}; {options.reads:,} reads per small-size figure, {FLAT_READS:,} per big-size figure; "
        f"load runs {options.seconds:g} s each"
    )
    report.seconds = time.perf_counter() - began
    return report


@contextlib.contextmanager
def backend_for(name: str, options: Options, root: Path) -> Iterator[Backend]:
    if name == "sqlite":
        yield SqliteBackend(root / "sqlite")
        return
    with contextlib.ExitStack() as stack:
        yield PostgresBackend(options.postgres, stack)


def main(argv: Sequence[str] | None = None) -> None:
    options = parse_options([] if argv is None else argv)
    console = Console() if Console().is_terminal else Console(width=168)
    began = time.perf_counter()
    cores = os.cpu_count() or 0
    console.print(
        f"hub over loopback: the hub is one `python -m fxhub serve` process (uvicorn, one worker); the "
        "clients run in this process, except the 50-client load generator and the second push row, "
        f"which run in processes of their own. All share this machine's {cores} cores, so under load "
        "the clients' own CPU (JSON and Candle parsing) competes with the hub's."
    )
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="fxhub-bench-hub-") as tmp:
        root = Path(tmp)
        console.print(f"temp folder {root} ({shutil.disk_usage(root).free / 1e9:.0f} GB free)\n")
        for name in options.stores:
            try:
                with backend_for(name, options, root / name) as backend:
                    report = run_store(backend, options, root / name, console)
                print_report(console, report)
            except Exception as exc:
                failures.append(name)
                console.print(f"[red]{name}: FAILED[/] {type(exc).__name__}: {exc}\n")
    console.print(f"hub benchmark took {(time.perf_counter() - began) / 60:.1f} min")
    if failures:
        raise SystemExit(f"hub benchmark failed for {', '.join(failures)}")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
