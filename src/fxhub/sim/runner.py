"""`fxhub simulate`: a deterministic synthetic market written as the vendors' real file formats.

Output folder::

    cme/{PRODUCT}.mbp-10.dbn.zst    GLBX.MDP3 MBP-10 of the front contract(s), trades inside as action T
    cme/{PRODUCT}.trades.dbn.zst    the same trades in the trades schema
    ig/{PAIR}.ticks.csv             IG quote updates in the fxhub recording format
    truth.csv                       per pair and minute: true CME volume, spot quote count, basis
    simulation.json                 the run's parameters and file list
"""

from __future__ import annotations

import csv
import json
import math
import random
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

import databento_dbn as dbn
import numpy as np
import numpy.typing as npt

from fxhub.errors import ValidationError
from fxhub.instruments import FuturesContract, Instrument, InstrumentTable, front_contract, load_instruments
from fxhub.sessions import cme_open_intervals, fx_is_open
from fxhub.sim.cme_book import DRIFT_LOOKBACK_NS, BookRecords, MinuteFlow, SimulatedBook
from fxhub.sim.dbn import ContractMapping, DbnWriter, pack_mbp10, trades_from_mbp10
from fxhub.sim.ig_quotes import simulate_ig_ticks
from fxhub.sim.market import LatentPath, simulate_latent_path
from fxhub.sources.ig.recording import write_recording

__all__ = ["SimulationConfig", "SimulationResult", "simulate"]

NS_PER_MINUTE: Final = 60_000_000_000
FLUSH_EVERY_MINUTES: Final = 60
MAX_MINUTES: Final = 7 * 24 * 60
SECONDS_PER_YEAR: Final = 365.0 * 24 * 3600
_CME_NOISE_SD: Final = 0.45  # per-minute log-normal noise of CME activity, independent of IG's
_IG_NOISE_SD: Final = 0.25

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class SimulationConfig:
    """What to simulate. `start` is rounded down to the minute."""

    start: datetime
    minutes: int
    seed: int = 7
    pairs: tuple[str, ...] = ("EUR_USD", "GBP_USD", "USD_JPY")

    def __post_init__(self) -> None:
        if self.start.tzinfo is None:
            raise ValidationError(
                "start", self.start, "must be timezone-aware, e.g. 2025-11-03T21:00:00Z", where="simulate"
            )
        if not 1 <= self.minutes <= MAX_MINUTES:
            raise ValidationError(
                "minutes", self.minutes, f"must be between 1 and {MAX_MINUTES}", where="simulate"
            )
        if not self.pairs:
            raise ValidationError("pairs", self.pairs, "must name at least one pair", where="simulate")
        start = self.start.astimezone(UTC).replace(second=0, microsecond=0)
        object.__setattr__(self, "start", start)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.minutes)


@dataclass(slots=True)
class SimulationResult:
    """Where the files went and what they hold."""

    out_dir: Path
    files: list[Path] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def instrument_id_for(raw_symbol: str) -> int:
    """A stable, Globex-looking instrument id for a simulated contract."""
    return 10_000_000 + zlib.crc32(raw_symbol.encode()) % 90_000_000


def simulate(
    config: SimulationConfig,
    out_dir: Path,
    *,
    table: InstrumentTable | None = None,
    progress: Progress | None = None,
) -> SimulationResult:
    """Write the simulated market for `config` into `out_dir` (created if missing)."""
    table = table or load_instruments()
    instruments = [table.get(pair) for pair in config.pairs]
    (out_dir / "cme").mkdir(parents=True, exist_ok=True)
    (out_dir / "ig").mkdir(parents=True, exist_ok=True)
    result = SimulationResult(out_dir)
    minute_starts = [config.start + timedelta(minutes=i) for i in range(config.minutes)]
    fx_open = np.array([fx_is_open(t) for t in minute_starts], dtype=bool)
    cme_open = _cme_open_minutes(config)
    truth_rows: list[dict[str, object]] = []
    for index, instrument in enumerate(instruments):
        if instrument.sim is None:
            raise ValidationError(
                "pairs", instrument.pair, "has no [sim] profile in the instrument table", where="simulate"
            )
        rng = np.random.default_rng(
            np.random.SeedSequence([config.seed, zlib.crc32(instrument.pair.encode())])
        )
        path = simulate_latent_path(instrument.sim, config.start, config.minutes, rng, fx_open=fx_open)
        stress = (
            np.sqrt(path.volatility / max(float(np.median(path.volatility[fx_open])), 1e-12))
            if fx_open.any()
            else np.zeros(config.minutes)
        )
        ig_path = out_dir / "ig" / f"{instrument.pair}.ticks.csv"
        ticks, quote_counts = simulate_ig_ticks(instrument, path, stress, rng, noise_sd=_IG_NOISE_SD)
        decimals = max(0, round(-math.log10(instrument.ig_price_increment)))
        result.counts[f"ig/{ig_path.name}"] = write_recording(ig_path, ticks, price_decimals=decimals)
        result.files.append(ig_path)
        flows: dict[int, tuple[str, MinuteFlow]] = {}
        if instrument.cme is not None:
            flows = _simulate_cme(config, instrument, table, path, stress, cme_open, rng, out_dir, result)
        truth_rows.extend(_truth_rows(config, instrument, table, path, quote_counts, flows))
        if progress is not None:
            progress(instrument.pair, index + 1, len(instruments))
    truth_path = out_dir / "truth.csv"
    _write_truth(truth_path, truth_rows)
    result.files.append(truth_path)
    manifest = out_dir / "simulation.json"
    manifest.write_text(
        json.dumps(
            {
                "start": config.start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "minutes": config.minutes,
                "seed": config.seed,
                "pairs": list(config.pairs),
                "files": [str(p.relative_to(out_dir)) for p in result.files],
                "counts": result.counts,
            },
            indent=2,
        )
        + "\n"
    )
    result.files.append(manifest)
    return result


def _cme_open_minutes(config: SimulationConfig) -> npt.NDArray[np.bool_]:
    mask = np.zeros(config.minutes, dtype=bool)
    for begin, end in cme_open_intervals(config.start, config.end):
        first = math.ceil((begin - config.start) / timedelta(minutes=1))
        last = math.ceil((end - config.start) / timedelta(minutes=1))
        mask[max(first, 0) : min(last, config.minutes)] = True
    return mask


def _forward(
    instrument: Instrument,
    table: InstrumentTable,
    spot: npt.NDArray[np.float64],
    years: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """Covered interest parity: the forward in the pair's quoting."""
    r_base, r_quote = table.rate(instrument.base), table.rate(instrument.quote)
    result: npt.NDArray[np.float64] = spot * (1.0 + r_quote * years) / (1.0 + r_base * years)
    return result


def _simulate_cme(
    config: SimulationConfig,
    instrument: Instrument,
    table: InstrumentTable,
    path: LatentPath,
    stress: npt.NDArray[np.float64],
    cme_open: npt.NDArray[np.bool_],
    rng: np.random.Generator,
    out_dir: Path,
    result: SimulationResult,
) -> dict[int, tuple[str, MinuteFlow]]:
    assert instrument.cme is not None
    assert instrument.sim is not None
    cme, sim = instrument.cme, instrument.sim
    contracts = [
        front_contract(cme.product, t) if cme_open[i] else None
        for i, t in enumerate(config.start + timedelta(minutes=m) for m in range(config.minutes))
    ]
    used: dict[str, FuturesContract] = {c.raw_symbol: c for c in contracts if c is not None}
    day_after = (config.end + timedelta(days=1)).date()
    mappings = [ContractMapping(raw, instrument_id_for(raw), config.start.date(), day_after) for raw in used]
    start_ns, end_ns = path.start_ns, path.start_ns + config.minutes * NS_PER_MINUTE
    tick_nanos = round(cme.tick_size * 1e9)
    typical_top = 40 if cme.product != "6B" else 25
    books: dict[str, SimulatedBook] = {}
    loop_rng = random.Random(int(rng.integers(2**63)))
    noise = rng.lognormal(0.0, _CME_NOISE_SD, config.minutes)
    book_noise = rng.lognormal(0.0, _CME_NOISE_SD / 2, config.minutes)
    flows: dict[int, tuple[str, MinuteFlow]] = {}
    base = out_dir / "cme" / cme.product
    with (
        DbnWriter(
            base.with_name(f"{cme.product}.mbp-10.dbn.zst"), _schema("mbp-10"), start_ns, end_ns, mappings
        ) as mbp_writer,
        DbnWriter(
            base.with_name(f"{cme.product}.trades.dbn.zst"), _schema("trades"), start_ns, end_ns, mappings
        ) as trade_writer,
    ):
        pending = BookRecords()

        def flush() -> None:
            nonlocal pending
            if len(pending):
                packed = pack_mbp10(pending, tick_nanos)
                mbp_writer.write(packed)
                trade_writer.write(trades_from_mbp10(packed))
            pending = BookRecords()

        for minute in range(config.minutes):
            contract = contracts[minute]
            if contract is None:
                continue
            activity = path.activity[minute] * stress[minute]
            n_trades = int(rng.poisson(sim.cme_trades_per_minute * activity * noise[minute]))
            n_book = 1 + int(rng.poisson(sim.cme_book_updates_per_minute * activity * book_noise[minute]))
            minute_ns = start_ns + minute * NS_PER_MINUTE
            times = np.sort(minute_ns + rng.integers(0, NS_PER_MINUTE, n_trades + n_book, dtype=np.int64))
            is_trade = np.zeros(n_trades + n_book, dtype=bool)
            is_trade[rng.choice(n_trades + n_book, n_trades, replace=False)] = True
            years = np.full(
                len(times), (contract.last_trade.timestamp() - minute_ns / 1e9) / SECONDS_PER_YEAR
            )
            fair = _futures_ticks(instrument, table, path.mid_at(times), years, cme.tick_size)
            before = _futures_ticks(
                instrument, table, path.mid_at(times - DRIFT_LOOKBACK_NS), years, cme.tick_size
            )
            spread = 2 if path.activity[minute] < 0.25 and rng.random() < 0.35 else 1
            book = books.get(contract.raw_symbol)
            if book is None:
                book = SimulatedBook(
                    instrument_id_for(contract.raw_symbol), loop_rng, typical_top_size=typical_top
                )
                books[contract.raw_symbol] = book
            flow = book.run_minute(pending, times, is_trade, fair, fair - before, spread)
            flows[minute] = (contract.raw_symbol, flow)
            if (minute + 1) % FLUSH_EVERY_MINUTES == 0:
                flush()
        flush()
    result.files += [mbp_writer.path, trade_writer.path]
    result.counts[f"cme/{mbp_writer.path.name}"] = mbp_writer.records
    result.counts[f"cme/{trade_writer.path.name}"] = trade_writer.records
    return flows


def _schema(name: str) -> dbn.Schema:
    return dbn.Schema.from_str(name)


def _futures_ticks(
    instrument: Instrument,
    table: InstrumentTable,
    spot: npt.NDArray[np.float64],
    years: npt.NDArray[np.float64],
    tick_size: float,
) -> npt.NDArray[np.float64]:
    forward = _forward(instrument, table, spot, years)
    assert instrument.cme is not None
    price = 1.0 / forward if instrument.cme.inverted else forward
    ticks: npt.NDArray[np.float64] = price / tick_size
    return ticks


def _truth_rows(
    config: SimulationConfig,
    instrument: Instrument,
    table: InstrumentTable,
    path: LatentPath,
    quote_counts: npt.NDArray[np.int64],
    flows: dict[int, tuple[str, MinuteFlow]],
) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    mids = path.mid_per_second
    for minute in range(config.minutes):
        t = config.start + timedelta(minutes=minute)
        raw, flow = flows.get(minute, ("", MinuteFlow()))
        spot_close = float(mids[(minute + 1) * 60])
        basis_pips: float | str = ""
        if raw and instrument.cme is not None:
            contract = front_contract(instrument.cme.product, t)
            years = np.array([(contract.last_trade - t).total_seconds() / SECONDS_PER_YEAR])
            forward = float(_forward(instrument, table, np.array([spot_close]), years)[0])
            basis_pips = round(instrument.pips(forward - spot_close), 3)
        rows.append(
            {
                "minute_utc": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "pair": instrument.pair,
                "spot_open": f"{mids[minute * 60]:.6f}",
                "spot_close": f"{spot_close:.6f}",
                "ig_quotes": int(quote_counts[minute]),
                "cme_open": int(bool(raw)),
                "cme_instrument": raw,
                "basis_pips": basis_pips,
                "cme_volume": flow.volume,
                "cme_trades": flow.trades,
                "cme_buy_volume": flow.buy_volume,
                "cme_sell_volume": flow.sell_volume,
                "cme_records": flow.records,
            }
        )
    return rows


def _write_truth(path: Path, rows: list[dict[str, object]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
