"""Concurrent load on a hub: clients in this process, or a load generator in processes of its own.

`run_load` drives any async calls (the fxhub clients, plain httpx) from this process's event loop, so
its rate is also a measure of the client library. `load_from_processes` measures the server: aiohttp
keep-alive connections spread over worker processes, bodies read and checked, nothing parsed, so on this
2-core machine the hub's one core, not the load generator, should be what runs out.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import queue
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import aiohttp

__all__ = ["LoadResult", "load_from_processes", "run_load"]

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
    context = multiprocessing.get_context("spawn")  # no forked copy of this process's threads or loop
    results: Any = context.Queue()
    go = context.Event()
    shares = [clients // processes + (1 if n < clients % processes else 0) for n in range(processes)]
    workers = [
        context.Process(target=_worker, args=(url, token, path, share, seconds, go, results), daemon=True)
        for share in shares
    ]
    for worker in workers:
        worker.start()
    try:
        for _ in workers:
            if _next(results, _READY_TIMEOUT_S) != "ready":
                raise RuntimeError("a load worker failed before it was ready")
        go.set()
        answers = [_next(results, seconds + _READY_TIMEOUT_S) for _ in workers]
    finally:
        for worker in workers:
            worker.join(timeout=5)
            if worker.is_alive():
                worker.kill()
    failed = [answer for answer in answers if isinstance(answer, str)]
    if failed:
        raise RuntimeError(f"load worker failed: {failed[0]}")
    latencies = [latency for _, _, part in answers for latency in part]
    return LoadResult(sum(n for n, _, _ in answers), max(wall for _, wall, _ in answers), latencies)


def _next(results: Any, timeout_s: float) -> Any:
    try:
        return results.get(timeout=timeout_s)
    except queue.Empty:
        raise RuntimeError(f"a load worker said nothing within {timeout_s:.0f} s") from None


def _worker(url: str, token: str, path: str, clients: int, seconds: float, go: Any, results: Any) -> None:
    try:
        results.put(asyncio.run(_drive(url, token, path, clients, seconds, go, results)))
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
