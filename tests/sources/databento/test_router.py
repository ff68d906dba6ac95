"""`DatabentoBars`: a builder per contract, symbol resolution, spread filtering, front-contract choice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import databento_dbn as dbn
import numpy as np
import pytest

from fxhub.core.bars import BarSpec
from fxhub.instruments import front_contract
from fxhub.model import Candle, PriceBasis, Source, VolumeType
from fxhub.sessions import cme_session_start
from fxhub.sources.databento.messages import F_LAST
from fxhub.sources.databento.router import DatabentoBars, _CmeHours, cme_minute_open
from fxhub.sources.databento.symbology import SymbolMap

TRADES = np.dtype(dbn.TradeMsg._dtypes)
MBP10 = np.dtype(dbn.MBP10Msg._dtypes)
# Tuesday 2025-11-04, 14:00 UTC: inside the CME session that opened Monday 17:00 CT (23:00 UTC).
DAY1 = datetime(2025, 11, 4, 14, 0, tzinfo=UTC)
DAY2 = DAY1 + timedelta(days=1)  # the next CME session
S = 1_000_000_000
M = 60 * S
EZ5, EH6, JZ5, ESZ5, SPREAD, UNMAPPED = 1, 2, 3, 4, 5, 6


def _ns(t: datetime) -> int:
    return int(t.timestamp()) * S


def _trades(rows: list[tuple[int, int, float, int, bytes]]) -> np.ndarray:
    """A trades-schema array from (ts, instrument id, price, size, side) rows."""
    out = np.zeros(len(rows), dtype=TRADES)
    out["length"] = TRADES.itemsize // 4
    for i, (ts, instrument_id, price, size, side) in enumerate(rows):
        out["ts_event"][i] = ts
        out["ts_recv"][i] = ts
        out["instrument_id"][i] = instrument_id
        out["price"][i] = round(price * 1e9)
        out["size"][i] = size
        out["side"][i] = side
        out["sequence"][i] = i
    out["action"] = b"T"
    out["flags"] = F_LAST
    return out


def _symbols() -> SymbolMap:
    symbols = SymbolMap()
    for instrument_id, raw in (
        (EZ5, "6EZ5"),
        (EH6, "6EH6"),
        (JZ5, "6JZ5"),
        (ESZ5, "ESZ5"),
        (SPREAD, "6EZ5-6EH6"),
    ):
        symbols.add(instrument_id, raw)
    return symbols


def _router(spec: BarSpec | None = None) -> tuple[DatabentoBars, list[Candle]]:
    out: list[Candle] = []
    return DatabentoBars(out.append, spec=spec or BarSpec(price="trade"), symbols=_symbols()), out


def test_calendar_front_of_the_test_day_is_6ez5() -> None:
    assert front_contract("6E", DAY1).raw_symbol == "6EZ5"
    assert cme_minute_open(_ns(DAY1))
    assert not cme_minute_open(_ns(datetime(2025, 11, 4, 22, 30, tzinfo=UTC)))  # the daily break


def test_one_contract_becomes_candles_of_its_pair() -> None:
    bars, out = _router()
    t = _ns(DAY1)
    bars.add_records(
        _trades(
            [(t + S, EZ5, 1.16, 2, b"B"), (t + 2 * S, EZ5, 1.1605, 3, b"A"), (t + M + S, EZ5, 1.161, 1, b"B")]
        )
    )
    bars.flush()
    assert [(c.timestamp, c.volume) for c in out] == [(DAY1, 5), (DAY1 + timedelta(minutes=1), 1)]
    c = out[0]
    assert (c.symbol, c.instrument, c.source, c.volume_type, c.price_basis) == (
        "EUR_USD",
        "6EZ5",
        Source.DATABENTO,
        VolumeType.REAL,
        PriceBasis.FUTURES,
    )
    assert (c.buy_volume, c.sell_volume, c.trade_count) == (2, 3, 2)
    assert bars.stats.records == 3
    assert bars.stats.candles == 2
    assert bars.stats.last_candle["EUR_USD"] == out[-1]


def test_6j_is_routed_as_inverted_usd_jpy() -> None:
    bars, out = _router()
    t = _ns(DAY1)
    bars.add_records(_trades([(t + S, JZ5, 0.0066850, 4, b"B")]))
    bars.flush()
    assert out[0].symbol == "USD_JPY"
    assert out[0].close == pytest.approx(1 / 0.006685, rel=1e-15)
    assert out[0].sell_volume == 4
    assert out[0].buy_volume == 0


def test_a_non_fx_future_is_stored_under_its_product_root() -> None:
    bars, out = _router()
    t = _ns(DAY1)
    bars.add_records(_trades([(t + S, ESZ5, 6850.25, 4, b"B")]))
    bars.flush()
    assert (out[0].symbol, out[0].instrument, out[0].close) == ("ES", "ESZ5", 6850.25)


def test_spreads_and_unmapped_instruments_are_skipped_with_a_reason() -> None:
    bars, out = _router()
    t = _ns(DAY1)
    bars.add_records(_trades([(t + S, SPREAD, 0.0061, 9, b"B")]))
    bars.add_records(_trades([(t + S, UNMAPPED, 1.16, 9, b"B")]))
    bars.add_records(_trades([(t + 2 * S, SPREAD, 0.0061, 9, b"B")]))
    bars.flush()
    assert out == []
    assert "not an outright" in bars.stats.skipped_instruments[SPREAD]
    assert "no symbol mapping" in bars.stats.skipped_instruments[UNMAPPED]
    assert bars.stats.records == 3


def test_candles_follow_the_market_open_function() -> None:
    out: list[Candle] = []
    t = _ns(DAY1)
    bars = DatabentoBars(
        out.append, spec=BarSpec(price="trade"), symbols=_symbols(), market_open=lambda m: m != t + M
    )
    bars.add_records(_trades([(t + S, EZ5, 1.16, 1, b"B"), (t + 3 * M + S, EZ5, 1.16, 1, b"B")]))
    bars.flush()
    assert [c.timestamp.minute for c in out] == [0, 2, 3]


def test_advance_closes_quiet_minutes_of_every_builder() -> None:
    bars, out = _router()
    t = _ns(DAY1)
    bars.add_records(_trades([(t + S, EZ5, 1.16, 1, b"B")]))
    bars.add_records(_trades([(t + 2 * S, JZ5, 0.006685, 1, b"B")]))
    bars.advance(t + M + bars.spec.grace_ns - 1)
    assert out == []
    bars.advance(t + M + bars.spec.grace_ns)
    assert sorted(c.symbol for c in out) == ["EUR_USD", "USD_JPY"]


def test_two_contracts_interleaved_in_one_array_never_mix() -> None:
    """A parent-symbol file (6E.FUT) interleaves the front and the next contract record by record."""
    bars, out = _router()
    t = _ns(DAY1)
    rows = []
    for minute in range(3):
        rows.append((t + minute * M + S, EZ5, 1.1600, 10, b"B"))
        rows.append((t + minute * M + 2 * S, EH6, 1.1650, 1, b"A"))
    bars.add_records(_trades(rows))
    bars.flush()
    assert [c.instrument for c in out] == ["6EZ5"] * 3
    assert [c.close for c in out] == [1.16] * 3
    assert [c.volume for c in out] == [10] * 3


def test_first_session_front_is_the_calendar_contract_when_both_trade_in_its_first_minute() -> None:
    """No session seen before: the calendar rule decides (router docstring). Both contracts close their
    first minute in the same `advance`, so neither arrival order nor spelling should matter."""
    bars, out = _router()
    t = _ns(DAY1)
    bars.add_records(_trades([(t + S, EH6, 1.1650, 50, b"A")]))  # the next contract, busier here
    bars.add_records(_trades([(t + 2 * S, EZ5, 1.1600, 10, b"B")]))
    bars.advance(t + M + bars.spec.grace_ns)
    assert [c.instrument for c in out] == ["6EZ5"]


def test_first_session_front_does_not_depend_on_which_contract_trades_first() -> None:
    results = []
    for first, second in ((EZ5, EH6), (EH6, EZ5)):
        bars, out = _router()
        t = _ns(DAY1)
        for minute in range(2):
            for offset, instrument_id in enumerate((first, second)):
                bars.add_records(_trades([(t + minute * M + (offset + 1) * S, instrument_id, 1.16, 5, b"B")]))
        bars.flush()
        results.append([c.instrument for c in out])
    assert results[0] == results[1] == ["6EZ5", "6EZ5"]


def test_next_session_front_is_the_contract_that_traded_most_in_the_previous_session() -> None:
    bars, out = _router()
    t1, t2 = _ns(DAY1), _ns(DAY2)
    # Session 1: the calendar front 6EZ5 trades first and stays the front for the whole session,
    # although 6EH6 then trades far more (the choice only changes at a session boundary).
    bars.add_records(_trades([(t1 + S, EZ5, 1.1600, 5, b"B")]))
    bars.add_records(_trades([(t1 + M + S, EZ5, 1.1600, 5, b"B")]))
    for minute in (1, 2):
        bars.add_records(_trades([(t1 + minute * M + 2 * S, EH6, 1.1650, 100, b"A")]))
    bars.add_records(_trades([(t1 + 3 * M + S, EZ5, 1.1600, 5, b"B")]))
    # Session 2: both trade; last session's leader is 6EH6.
    bars.add_records(_trades([(t2 + S, EZ5, 1.1600, 5, b"B")]))
    bars.add_records(_trades([(t2 + 2 * S, EH6, 1.1650, 1, b"A")]))
    bars.add_records(_trades([(t2 + M + S, EZ5, 1.1600, 5, b"B")]))
    bars.add_records(_trades([(t2 + M + 2 * S, EH6, 1.1650, 1, b"A")]))
    bars.flush()
    boundary = cme_session_start(DAY2)  # 17:00 CT the evening before
    session1 = [c for c in out if c.timestamp < boundary]
    session2 = [c for c in out if c.timestamp >= boundary]
    assert {c.instrument for c in session1} == {"6EZ5"}
    assert [c.volume for c in session1[:4]] == [5, 5, 0, 5]
    assert {c.instrument for c in session2} == {"6EH6"}
    assert [c.volume for c in session2 if c.volume] == [1, 1]
    assert bars.stats.dropped_not_front > 0
    # One candle per minute and symbol: a session never shows two contracts.
    assert len({c.key for c in out}) == len(out)


def test_the_router_accepts_an_mbp10_array_of_one_instrument() -> None:
    records = np.zeros(2, dtype=MBP10)
    records["length"] = MBP10.itemsize // 4
    records["rtype"] = 0x0A
    records["instrument_id"] = EZ5
    t = _ns(DAY1)
    records["ts_event"] = [t + S, t + 2 * S]
    records["action"] = [b"T", b"M"]
    records["side"] = [b"B", b"A"]
    records["flags"] = [0, F_LAST]
    records["price"] = 1_160_050_000
    records["size"] = 3
    for i in range(10):
        records[f"bid_px_{i:02d}"] = 1_160_000_000 - i * 50_000
        records[f"ask_px_{i:02d}"] = 1_160_050_000 + i * 50_000
        records[f"bid_sz_{i:02d}"] = 10
        records[f"ask_sz_{i:02d}"] = 10
    bars, out = _router(BarSpec(price="mid"))
    bars.add_records(records)
    bars.flush()
    assert len(out) == 1
    assert out[0].volume == 3
    assert out[0].quote_count == 1  # only the F_LAST record is a complete book
    assert out[0].close == pytest.approx(1.160025)
    assert out[0].avg_spread_pips == pytest.approx(0.5)


def test_an_empty_array_changes_nothing() -> None:
    bars, out = _router()
    bars.add_records(np.zeros(0, dtype=TRADES))
    bars.flush()
    assert out == []
    assert bars.stats.records == 0


def test_remembered_cme_hours_equal_the_calendar_minute_by_minute_in_any_order() -> None:
    # Thanksgiving week 2025: daily breaks, the Friday early close, the weekend.
    start = _ns(datetime(2025, 11, 25, 20, 0, tzinfo=UTC))
    forward = [start + i * 7 * M for i in range(1_500)]
    queries = forward + forward[::-1] + forward[::37]
    hours = _CmeHours()
    for minute_ns in queries:
        t = datetime.fromtimestamp(minute_ns // S, UTC)
        assert hours.minute_open(minute_ns) == cme_minute_open(minute_ns), t
        assert hours.session_start(t) == cme_session_start(t), t
