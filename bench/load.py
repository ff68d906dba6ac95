"""Concurrent load on a hub: clients in this process, or a load generator in processes of its own.

`run_load` drives any async calls (the fxhub clients, plain httpx) from this process's event loop, so
its rate is also a measure of the client library. `load_from_processes` measures the server: aiohttp
keep-alive connections spread over worker processes, bodies read and checked, nothing parsed, so on this
2-core machine the hub's one core, not the load generator, should be what runs out.
`push_from_processes` runs several pushing `HubClient`s at once, each in its own process, as several
collectors would.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import queue
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import aiohttp

__all__ = ["LoadResult", "load_from_processes", "push_from_processes", "run_load"]

_READY_TIMEOUT_S: Final = 60.0


@dataclass(frozen=True, slots=True)
class LoadResult:
    """What a load run saw: completed requests, the wall time they took, each one's latency."""

    requests: int
    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


async def run_load(calls: Sequence[Callable[[], Awaitable[Any]]], duration_s: float) -> LoadResult:
    """Each of `calls` (one per client) repeated back to back by its own task for `duration_s`.

    Every client makes one call before the clock starts, so connections are open and the hub's caches
    warm; the rate counts requests over the time until the last one in flight finished.
    """
    await asyncio.gather(*(call() for call in calls))
    latencies: list[float] = []
    began = time.perf_counter()
    stop = began + duration_s

    async def client(call: Callable[[], Awaitable[Any]]) -> None:
        while time.perf_counter() < stop:
            sent = time.perf_counter()
            await call()
            latencies.append(time.perf_counter() - sent)

    await asyncio.gather(*(client(call) for call in calls))
    return LoadResult(len(latencies), time.perf_counter() - began, latencies)


def load_from_processes(
    url: str, token: str, path: str, *, clients: int, seconds: float, processes: int = 2
) -> LoadResult:
    """`clients` connections, split over `processes` aiohttp workers, GET `url + path` back to back.

    Each worker opens its connections and makes one request on each, says it is ready, and starts its
    clock only when every worker is ready. Any answer but a 200 stops the run with an error.
    """
    if not 1 <= processes <= clients:
        raise ValueError(f"need 1 <= processes ({processes}) <= clients ({clients})")
    shares = [clients // processes + (1 if n < clients % processes else 0) for n in range(processes)]
    answers = _run_workers(_load_worker, [(url, token, path, share, seconds) for share in shares], seconds)
    latencies = [latency for _, _, part in answers for latency in part]
    return LoadResult(sum(n for n, _, _ in answers), max(wall for _, wall, _ in answers), latencies)


def push_from_processes(url: str, token: str, starts: Sequence[datetime], candles: int, batch: int) -> float:
    """Candles pushed per second by one `HubClient` per start, each in a process of its own, at once.

    Each worker makes `candles` candles from its start (`market_candles`, untimed), then pushes them in
    batches of `batch` when every worker is ready; the rate is all candles over the longest push.
    """
    answers = _run_workers(_push_worker, [(url, token, start, candles, batch) for start in starts], 600.0)
    return sum(n for n, _ in answers) / max(wall for _, wall in answers)


def _run_workers(
    target: Callable[..., None], arguments: Sequence[tuple[Any, ...]], seconds: float
) -> list[Any]:
    """Start `target(*args, go, results)` per item of `arguments` in spawned processes; once each has
    put "ready", set `go`; return each one's answer (a worker's error is raised here)."""
    context = multiprocessing.get_context("spawn")  # no forked copy of this process's threads or loop
    results: Any = context.Queue()
    go = context.Event()
    workers = [context.Process(target=target, args=(*args, go, results), daemon=True) for args in arguments]
    for worker in workers:
        worker.start()
    try:
        for _ in workers:
            said = _next(results, workers, _READY_TIMEOUT_S)
            if said != "ready":
                raise RuntimeError(f"a benchmark worker failed before it was ready: {said}")
        go.set()
        answers = [_next(results, workers, seconds + _READY_TIMEOUT_S) for _ in workers]
    finally:
        for worker in workers:
            worker.join(timeout=5)
            if worker.is_alive():
                worker.kill()
    failed = [answer for answer in answers if isinstance(answer, str)]
    if failed:
        raise RuntimeError(f"benchmark worker failed: {failed[0]}")
    return answers


def _next(results: Any, workers: Sequence[Any], timeout_s: float) -> Any:
    """The next thing a worker said; an error as soon as a worker died without saying it."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            return results.get(timeout=0.25)
        except queue.Empty:
            dead = [w.exitcode for w in workers if w.exitcode not in (None, 0)]
            if dead:
                raise RuntimeError(f"a benchmark worker died (exit code {dead[0]})") from None
    raise RuntimeError(f"a benchmark worker said nothing within {timeout_s:.0f} s")


def _load_worker(
    url: str, token: str, path: str, clients: int, seconds: float, go: Any, results: Any
) -> None:
    try:
        results.put(asyncio.run(_drive(url, token, path, clients, seconds, go, results)))
    except Exception as exc:  # reported to the parent, which raises it
        results.put(f"{type(exc).__name__}: {exc}")


def _push_worker(
    url: str, token: str, start: datetime, count: int, batch: int, go: Any, results: Any
) -> None:
    try:
        from bench.hub_support import market_candles  # in the worker: the parent need not import it
        from fxhub.hub.client import HubClient

        candles = market_candles(count, start=start)
        batches = [candles[at : at + batch] for at in range(0, len(candles), batch)]
        with HubClient(url, token, timeout_s=60) as client:
            client.health()  # the connection is open before the clock starts
            results.put("ready")
            go.wait()
            began = time.perf_counter()
            inserted = sum(client.push_candles(part).inserted for part in batches)
            elapsed = time.perf_counter() - began
        if inserted != len(candles):
            raise RuntimeError(f"the hub inserted {inserted:,} of {len(candles):,} candles")
        results.put((inserted, elapsed))
    except Exception as exc:  # reported to the parent, which raises it
        results.put(f"{type(exc).__name__}: {exc}")


async def _drive(
    url: str, token: str, path: str, clients: int, seconds: float, go: Any, results: Any
) -> tuple[int, float, list[float]]:
    connector = aiohttp.TCPConnector(limit=clients, force_close=False)
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(url, connector=connector, headers=headers) as session:

        async def get() -> None:
            async with session.get(path) as response:
                body = await response.read()
                if response.status != 200:
                    raise RuntimeError(f"GET {path} answered {response.status}: {body[:200]!r}")

        await asyncio.gather(*(get() for _ in range(clients)))
        results.put("ready")
        await asyncio.get_running_loop().run_in_executor(None, go.wait)
        outcome = await run_load([get] * clients, seconds)
        return outcome.requests, outcome.seconds, outcome.latencies
