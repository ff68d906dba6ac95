"""The streaming path (`StreamingBars.on_record`) against the file path, and trades counted once."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import databento as db
import databento_dbn as dbn
import pytest

from fxhub.core.bars import BarSpec
from fxhub.model import Candle
from fxhub.sources.databento.files import open_dbn_files, replay_files
from fxhub.sources.databento.router import DatabentoBars
from fxhub.sources.databento.stream import StreamingBars

PRODUCTS = ("6E", "6B", "6J")
T0 = int(datetime(2025, 11, 4, 14, 0, tzinfo=UTC).timestamp()) * 1_000_000_000
S = 1_000_000_000
EZ5 = 42


def _store(sim_dir: Path, product: str, schema: str) -> Any:
    return db.DBNStore.from_file(sim_dir / "cme" / f"{product}.{schema}.dbn.zst")


def _file_candles(paths: list[Path], spec: BarSpec | None = None) -> list[Candle]:
    out: list[Candle] = []
    replay_files(open_dbn_files(paths), DatabentoBars(out.append, spec=spec))
    return out


def _stream(
    stores: list[Any], records: Iterable[object], spec: BarSpec | None = None
) -> tuple[list[Candle], StreamingBars]:
    out: list[Candle] = []
    bars = DatabentoBars(out.append, spec=spec)
    for store in stores:
        bars.symbols.add_metadata_mappings(store.metadata.mappings)
    stream = StreamingBars(bars)
    for record in records:
        stream.on_record(record)
    stream.flush()
    return out, stream


def _merged(*streams: Iterable[Any]) -> Iterator[Any]:
    """Records of several schemas as one stream, in ts_event order (earlier arguments first on ties)."""
    return heapq.merge(*streams, key=lambda r: r.ts_event)


@pytest.mark.parametrize("product", PRODUCTS)
@pytest.mark.parametrize("price", ["mid", "trade"])
def test_streaming_a_file_record_by_record_equals_the_file_path_on_every_field(
    sim_dir: Path, product: str, price: str
) -> None:
    spec = BarSpec(price=price)  # type: ignore[arg-type]
    store = _store(sim_dir, product, "mbp-10")
    streamed, stream = _stream([store], store, spec)
    from_file = _file_candles([sim_dir / "cme" / f"{product}.mbp-10.dbn.zst"], spec)
    assert len(from_file) > 60
    assert streamed == from_file
    assert stream.records == store.to_ndarray().shape[0]
    assert stream.duplicates_dropped == 0


def test_streaming_mbp10_and_trades_interleaved_counts_each_trade_once(sim_dir: Path) -> None:
    book, trades = _store(sim_dir, "6E", "mbp-10"), _store(sim_dir, "6E", "trades")
    streamed, stream = _stream([book, trades], _merged(book, trades))
    from_file = _file_candles([sim_dir / "cme" / "6E.mbp-10.dbn.zst"])
    assert streamed == from_file
    assert stream.duplicates_dropped == trades.to_ndarray().shape[0]


def test_streaming_with_the_trades_schema_first_on_ties_counts_each_trade_once(sim_dir: Path) -> None:
    """Which schema's copy of one trade arrives first is not promised on a live feed."""
    book, trades = _store(sim_dir, "6E", "mbp-10"), _store(sim_dir, "6E", "trades")
    streamed, _ = _stream([book, trades], _merged(trades, book))
    from_file = _file_candles([sim_dir / "cme" / "6E.mbp-10.dbn.zst"])
    assert [c.volume for c in streamed] == [c.volume for c in from_file]


def _trade_msg(ts: int, size: int, sequence: int) -> dbn.TradeMsg:
    return dbn.TradeMsg(
        1, EZ5, ts, 1_160_050_000, size, dbn.Action.TRADE, dbn.Side.BID, 0, ts, flags=0, sequence=sequence
    )


def _mbp10_msg(ts: int, action: Any, size: int, sequence: int, flags: int) -> dbn.MBP10Msg:
    levels = [
        dbn.BidAskPair(1_160_000_000 - i * 50_000, 1_160_050_000 + i * 50_000, 10, 10, 1, 1)
        for i in range(10)
    ]
    return dbn.MBP10Msg(
        1,
        EZ5,
        ts,
        1_160_050_000,
        size,
        action,
        dbn.Side.BID if action == dbn.Action.TRADE else dbn.Side.ASK,
        0,
        ts,
        flags=flags,
        sequence=sequence,
        levels=levels,
    )


def _mapping() -> dbn.SymbolMappingMsg:
    return dbn.SymbolMappingMsg(
        1, EZ5, T0, dbn.SType.RAW_SYMBOL, "6EZ5", dbn.SType.RAW_SYMBOL, "6EZ5", T0, T0 + 86_400 * S
    )


def test_a_trade_whose_trades_record_arrives_before_its_mbp10_twin_is_counted_once() -> None:
    """One venue event, two schemas: the trades copy first, then the MBP-10 `T` record and its book change
    (same ts_event and sequence). DOMAIN.md §4: count one of them."""
    records = [
        _mapping(),
        _trade_msg(T0 + S, 3, 100),
        _mbp10_msg(T0 + S, dbn.Action.TRADE, 3, 100, 0),
        _mbp10_msg(T0 + S, dbn.Action.MODIFY, 3, 101, 0x80),
    ]
    out, _ = _stream([], records)
    assert [c.volume for c in out] == [3]


def test_symbol_mappings_heartbeats_and_errors_in_the_stream() -> None:
    records: list[object] = [
        _mapping(),
        dbn.SystemMsg(T0, "Heartbeat"),
        dbn.ErrorMsg(T0, "something went wrong"),
        _mbp10_msg(T0 + S, dbn.Action.TRADE, 2, 1, 0),
        _mbp10_msg(T0 + S, dbn.Action.MODIFY, 2, 2, 0x80),
    ]
    out, stream = _stream([], records)
    assert stream.bars.symbols.get(EZ5) == "6EZ5"
    assert stream.heartbeats == 1
    assert stream.records == 2
    assert [(c.symbol, c.instrument, c.volume) for c in out] == [("EUR_USD", "6EZ5", 2)]


def test_advance_on_a_quiet_stream_releases_the_buffer_and_closes_the_minute() -> None:
    out: list[Candle] = []
    bars = DatabentoBars(out.append)
    stream = StreamingBars(bars)
    stream.on_record(_mapping())
    stream.on_record(_mbp10_msg(T0 + S, dbn.Action.TRADE, 2, 1, 0))
    stream.on_record(_mbp10_msg(T0 + S, dbn.Action.MODIFY, 2, 2, 0x80))
    stream.advance(T0 + 60 * S + bars.spec.grace_ns - 1)
    assert out == []
    stream.advance(T0 + 60 * S + bars.spec.grace_ns)
    assert [c.volume for c in out] == [2]
    # Nothing more arrives: the clock alone fills the open minutes after it.
    stream.advance(T0 + 3 * 60 * S + bars.spec.grace_ns)
    assert [c.volume for c in out] == [2, 0, 0]


def test_streaming_three_products_in_one_session_equals_three_file_replays(sim_dir: Path) -> None:
    """One live session subscribed to 6E, 6B and 6J: their MBP-10 records arrive interleaved."""
    stores = [_store(sim_dir, p, "mbp-10") for p in PRODUCTS]
    streamed, _ = _stream(stores, _merged(*stores))
    from_files = [c for p in PRODUCTS for c in _file_candles([sim_dir / "cme" / f"{p}.mbp-10.dbn.zst"])]
    key = lambda c: (c.timestamp, c.symbol)  # noqa: E731
    assert sorted(streamed, key=key) == sorted(from_files, key=key)
