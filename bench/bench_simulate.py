"""How fast `fxhub simulate` writes a market, against reading the same DBN back in the same run.

The baseline is `DBNStore.to_ndarray()` over the files just written: the databento client's own decoder,
so the ratio says how much slower generating a record is than decoding it on this machine today.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

import databento as db

from bench.timing import median, repeat_seconds
from fxhub.sim import SimulationConfig, simulate

REPEATS = 3
START = datetime(2025, 11, 4, 13, 0, tzinfo=UTC)  # London–New York overlap: the busiest hour


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        config = SimulationConfig(start=START, minutes=60)
        result = simulate(config, out)
        records = sum(v for k, v in result.counts.items() if k.endswith(".dbn.zst"))
        sim_s = median(repeat_seconds(lambda: simulate(config, out), REPEATS))
        files = [p for p in result.files if p.name.endswith(".dbn.zst")]
        read_s = median(
            repeat_seconds(lambda: [db.DBNStore.from_file(p).to_ndarray() for p in files], REPEATS)
        )
    print("simulate: one busy hour, three pairs (median of 3 runs)")
    print(f"  DBN records written      {records:>12,}")
    print(f"  simulate                 {sim_s:>10.2f} s   {records / sim_s:>12,.0f} rec/s")
    print(f"  baseline: decode to_ndarray {read_s:>7.3f} s   {records / read_s:>12,.0f} rec/s")
    print(f"  ratio simulate / decode  {sim_s / read_s:>10.1f}x")
