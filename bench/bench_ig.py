"""IG candles: the vectorised tick-file import against a pandas baseline, and the live update path.

File import, all in one process on the real Dukascopy day (../shared/data/real/fx, 136,741 EUR/USD ticks,
gzip), median of REPEATS runs each, so the ratios hold even on a busy machine:

- baseline: `pandas.read_csv` (epoch_ms, bid, ask) + mid + `resample('1min').ohlc()` + count — what one
  writes without fxhub (it checks nothing and makes no candles);
- vectorised import: `read_tick_frames` + `import_tick_files`, every row checked as the row reader checks
  it, into `Candle`s identical to the per-quote ones;
- vectorised read only: the numpy chunks, no candles;
- for the record, the per-row path it replaces: `read_quotes` alone, and `read_quotes` → `IgBars`.

Live path: what the stream listener does per ``CHART:{epic}:TICK`` update — `quote_from_tick` (fields →
`Quote`, prices through IG's points scale) then `IgBars.on_quote` — on synthetic updates.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from fxhub.model import Candle
from fxhub.sources.ig.messages import PriceScale, quote_from_tick
from fxhub.sources.ig.replay import IgBars, replay_quotes
from fxhub.sources.ig.vendor_files import read_quotes
from fxhub.sources.ig.vendor_frames import import_tick_files, read_tick_frames

REPEATS = 5
DAY = (
    Path(__file__).resolve().parents[1]
    / ".."
    / "shared"
    / "data"
    / "real"
    / "fx"
    / ("dukascopy_EURUSD_ticks_2019-02-04.csv.gz")
)
FILE_TARGET = 1_000_000  # ticks/s, and faster than the baseline
LIVE_TARGET = 100_000  # updates/s
LIVE_UPDATES = 200_000
EPIC = "CS.D.EURUSD.MINI.IP"


def _median_seconds(action: Callable[[], object], repeats: int = REPEATS) -> float:
    runs = []
    for _ in range(repeats):
        began = time.perf_counter()
        action()
        runs.append(time.perf_counter() - began)
    return statistics.median(runs)


def _pandas_baseline(path: Path) -> int:
    frame = pd.read_csv(path, usecols=["epoch_ms", "bid", "ask"])
    mid = ((frame["bid"] + frame["ask"]) / 2).set_axis(pd.to_datetime(frame["epoch_ms"], unit="ms"))
    minutes = mid.resample("1min")
    ohlc, count = minutes.ohlc(), minutes.count()
    return len(ohlc) + len(count)


def _vectorised_import(path: Path) -> int:
    candles: list[Candle] = []
    import_tick_files([read_tick_frames(path)], candles.append)
    return len(candles)


def _vectorised_read(path: Path) -> int:
    return sum(len(chunk.ts_ns) for chunk in read_tick_frames(path))


def _row_reader(path: Path) -> int:
    return sum(1 for _ in read_quotes(path))


def _row_import(path: Path) -> int:
    candles: list[Candle] = []
    replay_quotes(read_quotes(path), IgBars(candles.append))
    return len(candles)


def _updates(count: int) -> list[dict[str, str | None]]:
    """IG tick updates as the Lightstreamer client hands them over: EUR/USD in points, UTM in ms."""
    rng = random.Random(7)
    utm, bid = 1_762_203_600_000, 11_520.0
    updates: list[dict[str, str | None]] = []
    for _ in range(count):
        utm += rng.randint(0, 900)
        bid = round(bid + rng.choice((-0.1, 0.0, 0.1)), 1)
        updates.append({"BID": f"{bid:.1f}", "OFR": f"{bid + 0.6:.1f}", "UTM": str(utm)})
    return updates


def _live(updates: list[dict[str, str | None]]) -> int:
    scale = PriceScale(epic=EPIC, divisor=10_000, pip_size=0.0001, reference=1.152)
    candles: list[Candle] = []
    bars = IgBars(candles.append)
    for fields in updates:
        quote = quote_from_tick(fields, epic=EPIC, symbol="EUR_USD", scale=scale)
        if quote is not None:
            bars.on_quote(quote, epic=EPIC)
    bars.flush()
    return len(candles)


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def main() -> None:
    ticks = _vectorised_read(DAY)  # also warms the file cache and pandas
    assert _vectorised_import(DAY) == _row_import(DAY) == 1440
    print(f"ig file import: the real Dukascopy day {DAY.name}, {ticks:,} ticks; median of {REPEATS} runs")
    rows = []
    for name, action, repeats in (
        ("baseline: read_csv + resample ohlc", _pandas_baseline, REPEATS),
        ("vectorised import (read + candles)", _vectorised_import, REPEATS),
        ("vectorised read only (chunks)", _vectorised_read, REPEATS),
        ("per-row reader only (read_quotes)", _row_reader, 3),
        ("per-row import (read_quotes → IgBars)", _row_import, 3),
    ):
        seconds = _median_seconds(lambda action=action: action(DAY), repeats)
        rows.append((name, seconds, ticks / seconds))
    for name, seconds, rate in rows:
        print(f"  {name:<40} {seconds * 1000:>8.1f} ms  {rate / 1e6:>6.2f} M ticks/s")
    baseline, vectorised = rows[0][2], rows[1][2]
    print(
        f"  vectorised import        {vectorised / 1e6:>6.2f} M ticks/s "
        f"(target ≥ {FILE_TARGET / 1e6:.0f} M ticks/s: {_met(vectorised >= FILE_TARGET)})"
    )
    print(
        f"  vectorised / baseline    {vectorised / baseline:>6.2f}x  "
        f"(target > 1x, faster than the baseline: {_met(vectorised > baseline)})"
    )
    print(f"  vectorised / per-row     {vectorised / rows[4][2]:>6.1f}x  (the import it replaces)")

    updates = _updates(LIVE_UPDATES)
    seconds = _median_seconds(lambda: _live(updates))
    rate = LIVE_UPDATES / seconds
    print(f"ig live handler: {LIVE_UPDATES:,} synthetic tick updates, quote_from_tick + IgBars.on_quote")
    print(
        f"  live path                {seconds * 1000:>8.1f} ms  {rate / 1e3:>6.0f} k updates/s"
        f" (target ≥ {LIVE_TARGET / 1e3:.0f} k/s: {_met(rate >= LIVE_TARGET)})"
    )


if __name__ == "__main__":
    main()
