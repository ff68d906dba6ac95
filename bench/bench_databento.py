"""Databento bars: our vectorised and streaming paths against the decoder's ceiling and a pandas baseline.

All four run in the same process on the same simulated MBP-10 file (about 1M records of 6E over two
trading days), so the ratios hold even on a busy machine:

- ceiling: `DBNStore.to_ndarray(count=N)`, the databento client decoding the file and nothing else, in
  chunks as large as the vectorised path's (`CHUNK_RECORDS`: chunks that fit the CPU caches decode about
  twice as fast as 250,000-record ones, so that is the honest ceiling); 250,000-record chunks, the
  ceiling this benchmark used to report, are shown beside it;
- pandas baseline: `to_df()` then a per-minute resample of trade volume and mid OHLC — what one writes
  without a bar builder (and it computes far less: no OFI, no spreads, no aggressor split);
- vectorised: `replay_files` (decode + every per-minute figure + candles), the file path;
- streaming: record objects one by one into `StreamingBars`, the live path (iteration cost included).

Memory: the vectorised path's peak traced allocation against the file's decoded size.
"""

from __future__ import annotations

import statistics
import tempfile
import time
import tracemalloc
import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import databento as db

from fxhub.sessions import cme_is_open, cme_session_start
from fxhub.sim import SimulationConfig, simulate
from fxhub.sources.databento.files import CHUNK_RECORDS, open_dbn_files, replay_files
from fxhub.sources.databento.router import DatabentoBars
from fxhub.sources.databento.stream import StreamingBars

REPEATS = 3
START = datetime(2025, 11, 3, 0, 0, tzinfo=UTC)  # Monday and Tuesday: two full CME sessions
MINUTES = 2 * 24 * 60
RECORD_BYTES = 368
LARGE_CHUNK_RECORDS = 250_000


def _median_seconds(action: Callable[[], object]) -> float:
    runs = []
    for _ in range(REPEATS):
        began = time.perf_counter()
        action()
        runs.append(time.perf_counter() - began)
    return statistics.median(runs)


def _decode(path: Path, count: int = CHUNK_RECORDS) -> int:
    return sum(len(chunk) for chunk in db.DBNStore.from_file(path).to_ndarray(count=count))


def _decode_large_chunks(path: Path) -> int:
    return _decode(path, LARGE_CHUNK_RECORDS)


def _pandas_baseline(path: Path) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = db.DBNStore.from_file(path).to_df().reset_index(drop=True)
    minute = frame["ts_event"].dt.floor("min")
    volume = frame["size"].where(frame["action"] == "T", 0).groupby(minute).sum()
    mid = (frame["bid_px_00"] + frame["ask_px_00"]) / 2
    ohlc = mid.groupby(minute).agg(["first", "max", "min", "last"])
    return len(volume) + len(ohlc)


def _vectorised(path: Path) -> int:
    candles: list[object] = []
    replay_files(open_dbn_files([path]), DatabentoBars(candles.append))
    return len(candles)


def _streaming(path: Path) -> int:
    candles: list[object] = []
    store = db.DBNStore.from_file(path)
    bars = DatabentoBars(candles.append)
    bars.symbols.add_metadata_mappings(store.metadata.mappings)
    stream = StreamingBars(bars)
    for record in store:
        stream.on_record(record)
    stream.flush()
    return len(candles)


def main() -> None:
    now = datetime(2025, 11, 4, tzinfo=UTC)
    cme_is_open(now), cme_session_start(now)  # load the exchange calendar outside the timings
    with tempfile.TemporaryDirectory() as tmp:
        began = time.perf_counter()
        result = simulate(SimulationConfig(start=START, minutes=MINUTES, pairs=("EUR_USD",)), Path(tmp))
        path = Path(tmp) / "cme" / "6E.mbp-10.dbn.zst"
        records = result.counts["cme/6E.mbp-10.dbn.zst"]
        print(
            f"databento bars: {records:,} simulated MBP-10 records of 6E "
            f"(written in {time.perf_counter() - began:.0f} s); median of {REPEATS} runs each"
        )
        rows = []
        for name, action in (
            (f"ceiling: to_ndarray decode ({CHUNK_RECORDS:,})", _decode),
            (f"  to_ndarray decode ({LARGE_CHUNK_RECORDS:,})", _decode_large_chunks),
            ("baseline: to_df + pandas resample", _pandas_baseline),
            ("vectorised path (file replay)", _vectorised),
            ("streaming path (record by record)", _streaming),
        ):
            seconds = _median_seconds(lambda action=action: action(path))
            rows.append((name, seconds, records / seconds))
        tracemalloc.start()
        _vectorised(path)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    ceiling, large_chunks, pandas_rate, vector_rate, stream_rate = (rate for _, _, rate in rows)
    for name, seconds, rate in rows:
        print(f"  {name:<36} {seconds:>7.2f} s  {rate / 1e6:>6.2f} M rec/s")
    print(f"  vectorised / ceiling     {vector_rate / ceiling:>6.0%}   (target ≥ 50%, and ≥ 2 M rec/s)")
    print(
        f"  vectorised / decode in {LARGE_CHUNK_RECORDS:,}-record chunks {vector_rate / large_chunks:>6.0%}"
    )
    print(f"  vectorised / pandas      {vector_rate / pandas_rate:>6.1f}x  (target ≥ 5x)")
    print(f"  streaming                {stream_rate / 1e6:>6.2f} M rec/s (target ≥ 0.5 M rec/s)")
    print(
        f"  vectorised peak memory   {peak / 2**20:>6.0f} MiB for {records * RECORD_BYTES / 2**20:,.0f} MiB "
        f"of decoded records (chunks of {CHUNK_RECORDS:,})"
    )


if __name__ == "__main__":
    main()
