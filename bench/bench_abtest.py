"""`fxhub ab-test` on one month of 1-minute bars, both variants: the run time against the 2 s target.

Input: the real CME 6EH4 bars of January 2024 (29,996 minutes) from ../shared/data/real/cme/.
Measured, median of `REPEATS` runs each, in the same process:
- *ab-test*: load the file (parse, check, make `Candle`s) and run the VWAP-bounce scalper on both
  variants with the statistics and the verdict (everything the command does but printing and writing);
- *baseline*: load the file and compute both variants' session VWAP bands only (no strategy, no stats);
- *read_csv*: `pandas.read_csv` of the file alone.
`python -m bench abtest` or `python -m bench.bench_abtest`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from bench.timing import median, repeat_seconds
from fxhub.abtest import Costs, VwapBounce, load_bar_file, run_ab_test
from fxhub.abtest.bands import anchored_bands

REAL_FILE: Final = (
    Path(__file__).resolve().parents[1].parent
    / "shared/data/real/cme"
    / ("6EH4.XCME_1min_bars_20240101_20240131.csv.gz")
)
REPEATS: Final = 5
TARGET_S: Final = 2.0


def _ab_test() -> int:
    bars = load_bar_file(REAL_FILE)
    result = run_ab_test(bars, lambda: VwapBounce(bars.pip_size), Costs())
    return sum(v["trades"] for v in result.summary["variants"])


def _baseline() -> None:
    bars = load_bar_file(REAL_FILE)
    for variant in bars.variants:
        anchored_bands(bars.frame, variant.weights, bars.anchor)


def _read_csv() -> None:
    import pandas as pd

    pd.read_csv(REAL_FILE)


def main() -> None:
    if not REAL_FILE.is_file():
        raise SystemExit(f"abtest benchmark: the real 6EH4 file is missing at {REAL_FILE}")
    trades = _ab_test()  # warm-up: imports, calendars
    full = median(repeat_seconds(_ab_test, REPEATS))
    baseline = median(repeat_seconds(_baseline, REPEATS))
    read = median(repeat_seconds(_read_csv, REPEATS))
    verdict = "met" if full < TARGET_S else "NOT met"
    print(f"abtest: one month of 1-minute bars (6EH4, January 2024), both variants, median of {REPEATS} runs")
    print(
        f"  ab-test (load + both backtests + stats): {full:6.3f} s, {trades} trades "
        f"(target < {TARGET_S:g} s: {verdict})"
    )
    print(f"  baseline (load + both variants' VWAP bands): {baseline:6.3f} s")
    print(f"  read_csv alone: {read:6.3f} s")


if __name__ == "__main__":
    main()
