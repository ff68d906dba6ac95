"""`UnifiedDataFetcher.get_market_data(pair, bars=60)` end to end through a real hub process.

Prints p50 and p99 of the whole call with every indicator (target: p99 ≤ 5 ms), the share of that
time spent in hub calls (HTTP, JSON, `Candle` validation) against `compute_indicators`, and, as the
baseline measured in the same run on the same hub, one bare `get_latest_candles(limit=bars + warmup)`.

Two window positions, because session VWAP needs every bar since the session start:
- *early session*: the window ends 90 minutes after the FX day's 17:00 New York start, so the warm-up
  read already covers the session (one `get_latest_candles` per source);
- *late session*: the window ends 15 hours into the FX day, so the chosen source's read is extended back
  to the session start (one more, longer `get_latest_candles`: ~900 candles).

The hub is SQLite behind its default hot window, filled with `hub_support.market_candles` (both sources
for three pairs, every minute). The client keeps its last answers and asks again with their ETags, so on
this static data every read after the first is a `304`: the policy rows are the "nothing changed since
the last call" case. The *live* rows push a new minute of both sources before every call, or before every
10th (a strategy polling ten times a minute), so the reads that changed come back in full; each push
moves the window on by a minute (the early case is past its warm-up read's reach by the end).
The baseline is a full read (a client without page cache).
`python -m bench fetcher` or `python -m bench.bench_fetcher`.
"""

from __future__ import annotations

import itertools
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import fxhub.fetcher.fetcher as fetcher_module
from bench.hub_support import HubProcess, market_candles
from bench.timing import median, percentile
from fxhub.fetcher import SelectionPolicy, UnifiedDataFetcher
from fxhub.hub.client import HubClient, connect_to_data_hub
from fxhub.model import Candle, Source

PAIR: Final = "EUR_USD"
BARS: Final = 60
REPEATS: Final = 400
WARMUP_RUNS: Final = 20
SESSION_START: Final = datetime(2025, 11, 3, 22, 0, tzinfo=UTC)  # Tuesday's FX day: 17:00 New York (EST)
LIVE_EVERY: Final = (1, 10)  # the live rows: a new minute before every call, before every 10th
CASES: Final = (
    ("early session", SESSION_START + timedelta(minutes=90)),
    ("late session", SESSION_START + timedelta(hours=15)),
)


class _TimedHub:
    """The client's read calls, timed."""

    def __init__(self, client: HubClient, spent: list[float]) -> None:
        self.client = client
        self.spent = spent

    def get_latest_candles(
        self, pair: str, limit: int = 100, source: Source | str | None = None
    ) -> list[Candle]:
        began = time.perf_counter()
        try:
            return self.client.get_latest_candles(pair, limit=limit, source=source)
        finally:
            self.spent[0] += time.perf_counter() - began

    def get_candles(
        self, pair: str, start: datetime, end: datetime, source: Source | str | None = None
    ) -> list[Candle]:
        began = time.perf_counter()
        try:
            return self.client.get_candles(pair, start, end, source=source)
        finally:
            self.spent[0] += time.perf_counter() - began


def _timed_indicators(spent: list[float]) -> Callable[..., dict[str, Any]]:
    real: Callable[..., dict[str, Any]] = getattr(fetcher_module, "compute_indicators")  # noqa: B009

    def timed(*args: Any, **kwargs: Any) -> dict[str, Any]:
        began = time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - began

    return timed


def _fill(client: HubClient, end: datetime) -> int:
    start = SESSION_START - timedelta(hours=24)  # a day before, for warm-up across the session start
    minutes = int((end - start) / timedelta(minutes=1)) + 1
    candles = [c for c in market_candles(minutes * 6 * 2, start=start) if c.timestamp <= end]
    for offset in range(0, len(candles), 5_000):
        client.push_candles(candles[offset : offset + 5_000])
    return len(candles)


class _Minutes:
    """The minutes of `PAIR` (both sources) after the filled data, pushed one at a time by `every(n)`."""

    def __init__(self, client: HubClient, end: datetime) -> None:
        # A day of minutes from `end`: more than the live rows push (market_candles skips closed minutes).
        candles = [
            c for c in market_candles(24 * 60 * 6, start=end + timedelta(minutes=1)) if c.symbol == PAIR
        ]
        self.batches = iter(zip(candles[::2], candles[1::2], strict=True))
        self.client = client

    def every(self, calls: int) -> Callable[[], None]:
        """A `before_call` that pushes the next minute before every `calls`-th call, starting now."""
        count = itertools.count()

        def before_call() -> None:
            if next(count) % calls == 0:
                self.client.push_candles(list(next(self.batches)))

        return before_call


def _measure(
    client: HubClient,
    full: HubClient,
    policy: SelectionPolicy,
    before_call: Callable[[], None] = lambda: None,
) -> dict[str, float]:
    """Times `get_market_data` through `client`, and a bare latest read through `full` (no page cache)."""
    hub_time, indicator_time = [0.0], [0.0]
    fetcher = UnifiedDataFetcher(_TimedHub(client, hub_time), policy=policy)
    original = getattr(fetcher_module, "compute_indicators")  # noqa: B009
    setattr(fetcher_module, "compute_indicators", _timed_indicators(indicator_time))  # noqa: B010
    try:
        for _ in range(WARMUP_RUNS):
            before_call()
            fetcher.get_market_data(PAIR, bars=BARS)
        hub_time[0] = indicator_time[0] = 0.0
        durations = []
        for _ in range(REPEATS):
            before_call()  # not timed
            began = time.perf_counter()
            fetcher.get_market_data(PAIR, bars=BARS)
            durations.append(time.perf_counter() - began)
    finally:
        setattr(fetcher_module, "compute_indicators", original)  # noqa: B010
    total = sum(durations)
    baseline = []
    for _ in range(REPEATS):
        began = time.perf_counter()
        full.get_latest_candles(PAIR, limit=BARS + fetcher.warmup)
        baseline.append(time.perf_counter() - began)
    return {
        "p50_ms": median(durations) * 1e3,
        "p99_ms": percentile(durations, 99) * 1e3,
        "hub_share": hub_time[0] / total,
        "indicator_share": indicator_time[0] / total,
        "baseline_p50_ms": median(baseline) * 1e3,
        "baseline_p99_ms": percentile(baseline, 99) * 1e3,
        "warmup": fetcher.warmup,
    }


def _row(name: str, r: dict[str, float]) -> None:
    verdict = "ok" if r["p99_ms"] <= 5.0 else "OVER the 5 ms target"
    print(
        f"    {name:<24} p50 {r['p50_ms']:6.2f} ms  p99 {r['p99_ms']:6.2f} ms ({verdict}); "
        f"hub calls {r['hub_share']:5.1%}, indicators {r['indicator_share']:5.1%}, "
        f"rest {1 - r['hub_share'] - r['indicator_share']:5.1%}"
    )


def main() -> None:
    print(f"fetcher: get_market_data({PAIR!r}, bars={BARS}) through a real hub (SQLite), {REPEATS} runs each")
    for label, end in CASES:
        with tempfile.TemporaryDirectory(prefix="fxhub-bench-fetcher-") as folder:
            workdir = Path(folder)
            with (
                HubProcess(str(workdir / "hub.sqlite3"), workdir) as hub,
                connect_to_data_hub(hub.url, hub.token) as client,
                HubClient(hub.url, hub.token, cached_pages=0) as full,
            ):
                stored = _fill(client, end)
                print(f"  {label}: window ends {end:%Y-%m-%d %H:%M}Z, {stored:,} candles stored")
                for policy in (
                    SelectionPolicy(),
                    SelectionPolicy(policy="hybrid"),
                    SelectionPolicy(basis_adjust=True),
                ):
                    name = policy.policy + (" + basis" if policy.basis_adjust else "")
                    r = _measure(client, full, policy)
                    _row(f"{name}, unchanged", r)
                minutes = _Minutes(client, end)
                for every in LIVE_EVERY:  # last: each push moves the window on by a minute
                    live = _measure(client, full, SelectionPolicy(), minutes.every(every))
                    _row(f"auto, live: new minute/{every} call{'s' if every > 1 else ''}", live)
                limit = f"{BARS}+{r['warmup']}"
                print(
                    f"    baseline: full get_latest_candles(limit={limit}) p50 {r['baseline_p50_ms']:6.2f} ms"
                    f"  p99 {r['baseline_p99_ms']:6.2f} ms"
                )


if __name__ == "__main__":
    main()
