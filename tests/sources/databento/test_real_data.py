"""Real CME data (GLBX.MDP3 fixtures in ../shared/data/real/glbx): our bars against Databento's own.

The files are required inputs: a missing one fails the test with its path (see conftest.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import databento as db
import numpy as np
import pytest

from fxhub.core.bars import NS_PER_MINUTE, BarSpec
from fxhub.errors import DataFormatError
from fxhub.instruments import load_instruments
from fxhub.model import Candle, PriceBasis, Source, VolumeType
from fxhub.sources.databento.files import open_dbn_files, replay_files
from fxhub.sources.databento.messages import book_columns, trade_columns
from fxhub.sources.databento.router import DatabentoBars
from fxhub.sources.databento.stream import StreamingBars
from fxhub.sources.databento.symbology import outright_root, target_for

RealFile = Callable[[str], Path]

ES_TRADES = "esu4-trades-20240701T2358-20240702T0002.dbn.zst"
ES_MBP1 = "esu4-mbp-1-20240701T2358-20240702T0002.dbn.zst"
OHLCV = "esu4-nqu4-ohlcv-1m-20240701T2340-20240702T0010.dbn.zst"
LIVE = "live-mixed-session.dbn.zst"
SPREAD_DEFINITIONS = "es-futspread-definition.dbn.zst"
OUTRIGHT_DEFINITIONS = "es-fut-definition.dbn.zst"


def _replay(path: Path, spec: BarSpec | None = None) -> tuple[list[Candle], DatabentoBars]:
    out: list[Candle] = []
    bars = DatabentoBars(out.append, spec=spec)
    replay_files(open_dbn_files([path]), bars)
    return out, bars


def _official_esu4_bars(real_glbx: RealFile) -> dict[datetime, tuple[float, float, float, float, float]]:
    store = db.DBNStore.from_file(real_glbx(OHLCV))
    ids = {int(i["symbol"]) for i in store.metadata.mappings["ESU4"]}
    bars = store.to_ndarray()
    esu4 = bars[np.isin(bars["instrument_id"], list(ids))]
    assert len(esu4) == 30, "the official file holds 30 minutes of ESU4 (and 30 of NQU4)"
    return {
        datetime.fromtimestamp(int(b["ts_event"]) // 1_000_000_000, UTC): (
            b["open"] / 1e9,
            b["high"] / 1e9,
            b["low"] / 1e9,
            b["close"] / 1e9,
            float(b["volume"]),
        )
        for b in esu4
    }


def test_esu4_trade_bars_equal_databentos_official_ohlcv_1m_minute_by_minute(real_glbx: RealFile) -> None:
    ours, _ = _replay(real_glbx(ES_TRADES), BarSpec(price="trade"))
    official = _official_esu4_bars(real_glbx)
    compared = [c for c in ours if c.timestamp in official]
    assert len(compared) >= 4, "23:58, 23:59, 00:00 and 00:01 have trades in both files"
    for candle in compared:
        assert (candle.open, candle.high, candle.low, candle.close, candle.volume) == official[
            candle.timestamp
        ]
    # Databento has no bar for a minute without trades; we emit a zero-volume candle there.
    for candle in ours:
        if candle.timestamp not in official:
            assert candle.volume == 0, candle.timestamp
    # Every official minute inside the trades file's span is one of ours.
    store = db.DBNStore.from_file(real_glbx(ES_TRADES))
    start, end = int(store.metadata.start), int(store.metadata.end)
    last_trade = int(store.to_ndarray()["ts_event"].max())
    inside = {
        t
        for t in official
        if start
        <= int(t.timestamp()) * 1_000_000_000
        < min(end, last_trade // NS_PER_MINUTE * NS_PER_MINUTE + NS_PER_MINUTE)
    }
    assert inside <= {c.timestamp for c in ours}
    assert [official[t][4] for t in sorted(inside)] == [18.0, 23.0, 175.0, 37.0]


def test_esu4_candles_are_stored_under_the_product_root(real_glbx: RealFile) -> None:
    ours, bars = _replay(real_glbx(ES_TRADES), BarSpec(price="trade"))
    assert {(c.symbol, c.instrument) for c in ours} == {("ES", "ESU4")}
    assert {(c.source, c.volume_type, c.price_basis) for c in ours} == {
        (Source.DATABENTO, VolumeType.REAL, PriceBasis.FUTURES)
    }
    assert bars.stats.records == 120
    assert sum(c.trade_count or 0 for c in ours) == 120


def test_esu4_mbp1_trade_records_give_the_trades_files_volume_per_minute(real_glbx: RealFile) -> None:
    from_trades, _ = _replay(real_glbx(ES_TRADES), BarSpec(price="trade"))
    from_book, _ = _replay(real_glbx(ES_MBP1), BarSpec(price="trade"))
    fields = lambda c: (c.timestamp, c.volume, c.trade_count, c.buy_volume, c.sell_volume)  # noqa: E731
    assert [fields(c) for c in from_book] == [fields(c) for c in from_trades]
    assert [(c.open, c.high, c.low, c.close) for c in from_book] == [
        (c.open, c.high, c.low, c.close) for c in from_trades
    ]
    # The book file also yields quotes: spreads of a quarter point (one ES tick) or more.
    assert all((c.quote_count or 0) > 0 for c in from_book)
    assert all(c.avg_spread_pips is not None and c.avg_spread_pips >= 0.25 for c in from_book)


def test_esu4_mbp1_trade_rows_are_the_trades_files_rows(real_glbx: RealFile) -> None:
    book = db.DBNStore.from_file(real_glbx(ES_MBP1)).to_ndarray()
    trades = db.DBNStore.from_file(real_glbx(ES_TRADES)).to_ndarray()
    a, b = trade_columns(book), trade_columns(trades)
    assert len(a) == len(b) == 120
    for name in ("ts", "price", "size", "aggressor"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name


def test_esu4_mbp1_books_read_the_named_top_level(real_glbx: RealFile) -> None:
    raw = db.DBNStore.from_file(real_glbx(ES_MBP1)).to_ndarray()
    books = book_columns(raw, 1)
    last = raw[(raw["flags"] & 0x80) != 0]
    assert len(books) == len(last) > 100
    assert np.array_equal(books.bid_key[:, 0], last["bid_px_00"])
    assert np.array_equal(books.ask_sz[:, 0], last["ask_sz_00"])
    assert np.all(books.bid_top < books.ask_top)


def test_esu4_mid_and_trade_bars_agree_on_volume(real_glbx: RealFile) -> None:
    mid, _ = _replay(real_glbx(ES_MBP1), BarSpec(price="mid"))
    trade, _ = _replay(real_glbx(ES_MBP1), BarSpec(price="trade"))
    assert [(c.timestamp, c.volume, c.vwap, c.ofi) for c in mid] == [
        (c.timestamp, c.volume, c.vwap, c.ofi) for c in trade
    ]
    for c in mid:
        assert c.vwap is not None
        assert abs(c.vwap - c.close) < 2.0  # mids sit within a couple of points of the trades


def test_live_mixed_session_recording_replays_without_error(real_glbx: RealFile) -> None:
    ours, bars = _replay(real_glbx(LIVE))
    assert bars.symbols.get(183748) == "ESZ4"  # from the recording's SymbolMappingMsg records
    assert ours
    assert {(c.symbol, c.instrument) for c in ours} == {("ES", "ESZ4")}


def test_live_mixed_session_streams_record_by_record_without_error(real_glbx: RealFile) -> None:
    out: list[Candle] = []
    stream = StreamingBars(DatabentoBars(out.append))
    for record in db.DBNStore.from_file(real_glbx(LIVE)):
        stream.on_record(record)
    stream.flush()
    assert stream.bars.symbols.get(183748) == "ESZ4"
    assert {c.symbol for c in out} <= {"ES"}


@pytest.mark.parametrize("name", [OHLCV, OUTRIGHT_DEFINITIONS])
def test_files_without_trades_or_books_are_refused_with_the_schema_named(
    real_glbx: RealFile, name: str
) -> None:
    with pytest.raises(DataFormatError, match=r"schema '(ohlcv-1m|definition)' has no trades or book"):
        open_dbn_files([real_glbx(name)])


def test_calendar_spreads_from_real_definitions_are_filtered(real_glbx: RealFile) -> None:
    definitions = db.DBNStore.from_file(real_glbx(SPREAD_DEFINITIONS)).to_ndarray()
    spreads = [
        s.decode()
        for s, c in zip(definitions["raw_symbol"], definitions["instrument_class"], strict=True)
        if c == b"S"
    ]
    assert spreads, "the spread definition file holds class-S instruments"
    table = load_instruments()
    for raw in spreads:
        assert "-" in raw
        assert outright_root(raw) is None, raw
        assert target_for(raw, table) is None, raw
    # The same file's mappings also name outrights (ES.FUT parent symbology): those are kept.
    mapped = db.DBNStore.from_file(real_glbx(SPREAD_DEFINITIONS)).metadata.mappings
    for raw in mapped:
        assert (outright_root(raw) == "ES") == ("-" not in raw), raw


def test_real_outright_definitions_map_to_their_root(real_glbx: RealFile) -> None:
    definitions = db.DBNStore.from_file(real_glbx(OUTRIGHT_DEFINITIONS)).to_ndarray()
    assert set(definitions["instrument_class"].tolist()) == {b"F"}
    for raw in {s.decode() for s in definitions["raw_symbol"]}:
        assert outright_root(raw) == "ES"
        target = target_for(raw, load_instruments())
        assert target is not None
        assert (target.symbol, target.instrument, target.inverted) == ("ES", raw, False)


def test_router_skips_a_real_spread_instrument_by_its_mapping(real_glbx: RealFile) -> None:
    definitions = db.DBNStore.from_file(real_glbx(SPREAD_DEFINITIONS)).to_ndarray()
    spread = definitions[definitions["instrument_class"] == b"S"][0]
    trades = db.DBNStore.from_file(real_glbx(ES_TRADES)).to_ndarray().copy()
    trades["instrument_id"] = spread["instrument_id"]
    out: list[Candle] = []
    bars = DatabentoBars(out.append)
    bars.symbols.add(int(spread["instrument_id"]), spread["raw_symbol"].decode())
    bars.add_records(trades)
    bars.flush()
    assert out == []
    assert "not an outright future" in bars.stats.skipped_instruments[int(spread["instrument_id"])]
