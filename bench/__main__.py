"""Run every benchmark, or the ones named: `python -m bench [simulate hub ...]`."""

from __future__ import annotations

import importlib
import sys
from typing import Final

BENCHMARKS: Final = ("simulate", "databento", "hub", "fetcher", "ig", "abtest")


def main(argv: list[str]) -> None:
    for name in argv or BENCHMARKS:
        if name not in BENCHMARKS:
            raise SystemExit(f"unknown benchmark {name!r}; choose from {', '.join(BENCHMARKS)}")
        importlib.import_module(f"bench.bench_{name}").main()


if __name__ == "__main__":
    main(sys.argv[1:])
