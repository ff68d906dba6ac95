"""IG stream items → fxhub types, and the price-scale check (pure functions, no I/O).

(Named test_ig_messages.py: tests/sources/databento/test_messages.py exists, and two test modules with
the same basename in package-less test folders stop pytest's collection.)
"""

from __future__ import annotations

import pytest

from fxhub.errors import DataFormatError
from fxhub.instruments import get_instrument
from fxhub.model import Quote
from fxhub.sources.ig.messages import (
    IgPriceScaleError,
    MarketState,
    MinuteTickCount,
    PriceScale,
    market_state_from_fields,
    minute_tick_count_from_fields,
    parse_one_pip_means,
    price_scale_from_market,
    quote_from_tick,
    utm_ns,
)

EPIC = "CS.D.EURUSD.MINI.IP"
UTM = "1704276005123"  # 2024-01-03 10:00:05.123 UTC
EUR_SCALE = PriceScale(epic=EPIC, divisor=10000, pip_size=0.0001, reference=1.152)


def test_quote_from_tick_turns_strings_into_a_quote_with_utm_in_nanoseconds() -> None:
    quote = quote_from_tick({"BID": "1.15201", "OFR": "1.15207", "UTM": UTM}, epic=EPIC, symbol="EUR_USD")
    assert quote == Quote(symbol="EUR_USD", ts_event=1_704_276_005_123_000_000, bid=1.15201, ask=1.15207)


def test_quote_from_tick_with_a_scale_turns_ig_points_into_the_pairs_quoting() -> None:
    quote = quote_from_tick(
        {"BID": "11520.1", "OFR": "11520.7", "UTM": UTM}, epic=EPIC, symbol="EUR_USD", scale=EUR_SCALE
    )
    assert quote is not None
    assert quote.bid == pytest.approx(1.15201)
    assert quote.ask == pytest.approx(1.15207)


@pytest.mark.parametrize(
    "fields",
    [
        {"BID": None, "OFR": "1.15207", "UTM": UTM},  # '#' on the wire: null
        {"BID": "", "OFR": "1.15207", "UTM": UTM},  # '$' on the wire: empty string
        {"BID": "1.15201", "OFR": "  ", "UTM": UTM},
        {"BID": "1.15201", "OFR": "1.15207", "UTM": None},
        {"BID": "1.15201", "OFR": "1.15207"},  # never had a value
    ],
)
def test_quote_from_tick_without_bid_offer_or_utm_is_no_quote(fields: dict[str, str | None]) -> None:
    assert quote_from_tick(fields, epic=EPIC, symbol="EUR_USD") is None


def test_quote_from_tick_with_a_non_number_says_which_item_and_field() -> None:
    with pytest.raises(DataFormatError, match=r"CHART:CS.D.EURUSD.MINI.IP:TICK: field OFR .* was 'n/a'"):
        quote_from_tick({"BID": "1.1", "OFR": "n/a", "UTM": UTM}, epic=EPIC, symbol="EUR_USD")


def test_quote_from_tick_refuses_a_crossed_quote() -> None:
    with pytest.raises(DataFormatError, match="BID ≤ OFR"):
        quote_from_tick({"BID": "1.2", "OFR": "1.1", "UTM": UTM}, epic=EPIC, symbol="EUR_USD")


def test_utm_ns_reads_epoch_milliseconds_and_refuses_anything_else() -> None:
    assert utm_ns("1704276005123") == 1_704_276_005_123_000_000
    assert utm_ns(None) is None
    assert utm_ns("") is None
    with pytest.raises(DataFormatError, match="whole epoch milliseconds"):
        utm_ns("1704276005.5")
    with pytest.raises(DataFormatError, match="positive"):
        utm_ns("-5")


def test_market_state_from_fields_reads_every_ig_state() -> None:
    for state in MarketState:
        assert market_state_from_fields({"MARKET_STATE": state.value}, epic=EPIC) is state
    assert market_state_from_fields({"MARKET_STATE": "tradeable"}, epic=EPIC) is MarketState.TRADEABLE
    assert market_state_from_fields({"MARKET_STATE": None}, epic=EPIC) is None


def test_market_state_from_fields_with_an_unknown_state_lists_the_known_ones() -> None:
    with pytest.raises(DataFormatError, match=r"MARKET:CS.D.EURUSD.MINI.IP: .*TRADEABLE.* was 'HALTED'"):
        market_state_from_fields({"MARKET_STATE": "HALTED"}, epic=EPIC)


def test_minute_tick_count_from_fields_reads_igs_count_and_whether_the_minute_closed() -> None:
    fields = {"UTM": "1704276000000", "CONS_END": "1", "CONS_TICK_COUNT": "57"}
    assert minute_tick_count_from_fields(fields, epic=EPIC) == MinuteTickCount(
        epic=EPIC, start_ns=1_704_276_000_000_000_000, tick_count=57, complete=True
    )
    running = minute_tick_count_from_fields({**fields, "CONS_END": "0"}, epic=EPIC)
    assert running is not None
    assert not running.complete
    assert minute_tick_count_from_fields({"UTM": "1704276000000"}, epic=EPIC) is None
    with pytest.raises(DataFormatError, match="whole number"):
        minute_tick_count_from_fields({**fields, "CONS_TICK_COUNT": "2.5"}, epic=EPIC)


def test_parse_one_pip_means_reads_the_leading_number() -> None:
    assert parse_one_pip_means("0.0001 USD/EUR") == 0.0001
    assert parse_one_pip_means("0.01 JPY/USD") == 0.01
    assert parse_one_pip_means("pips") is None
    assert parse_one_pip_means(None) is None


def test_price_scale_from_market_reads_ig_points_of_eur_usd() -> None:
    scale = price_scale_from_market(
        epic=EPIC,
        instrument=get_instrument("EUR_USD"),
        scaling_factor=10000,
        one_pip_means="0.0001 USD/EUR",
        snapshot_bid=11520.1,
        snapshot_offer=11520.7,
    )
    assert scale.divisor == 10000
    assert scale.reference == pytest.approx(1.15204)
    assert scale.to_price(11520.1) == pytest.approx(1.15201)
    assert scale.decimals == 5


def test_price_scale_from_market_reads_ig_points_of_usd_jpy() -> None:
    scale = price_scale_from_market(
        epic="CS.D.USDJPY.MINI.IP",
        instrument=get_instrument("USD_JPY"),
        scaling_factor=100,
        one_pip_means="0.01 JPY/USD",
        snapshot_bid=15340.1,
        snapshot_offer=15340.8,
    )
    assert scale.to_price(15341.0) == pytest.approx(153.41)
    assert scale.decimals == 3


def test_price_scale_when_one_pip_means_another_size_says_the_epic_is_not_that_pair() -> None:
    with pytest.raises(IgPriceScaleError, match=r"onePipMeans .* was '1 USD'.*pip of 0.0001 for EUR_USD"):
        price_scale_from_market(
            epic=EPIC,
            instrument=get_instrument("EUR_USD"),
            scaling_factor=10000,
            one_pip_means="1 USD",
            snapshot_bid=11520.1,
            snapshot_offer=11520.7,
        )


def test_price_scale_when_the_snapshot_fits_no_reading_names_what_it_expected() -> None:
    with pytest.raises(
        IgPriceScaleError,
        match=r"was 11520.4 with scalingFactor 10, which gives 1152.04; expected about 1.152",
    ):
        price_scale_from_market(
            epic=EPIC,
            instrument=get_instrument("EUR_USD"),
            scaling_factor=10,
            one_pip_means="0.0001 USD/EUR",
            snapshot_bid=11520.1,
            snapshot_offer=11520.7,
        )


def test_price_scale_accepts_a_snapshot_already_in_the_pairs_quoting() -> None:
    scale = price_scale_from_market(
        epic=EPIC,
        instrument=get_instrument("EUR_USD"),
        scaling_factor=10000,
        one_pip_means="0.0001 USD/EUR",
        snapshot_bid=1.15201,
        snapshot_offer=1.15207,
    )
    assert scale.to_price(1.15201) == pytest.approx(1.15201)  # a stream in the pair's quoting
    assert scale.to_price(11520.1) == pytest.approx(1.15201)  # and one in points


def test_price_scale_without_a_snapshot_falls_back_to_the_tables_typical_price() -> None:
    scale = price_scale_from_market(
        epic=EPIC,
        instrument=get_instrument("EUR_USD"),
        scaling_factor=10000,
        one_pip_means="0.0001 USD/EUR",
        snapshot_bid=None,
        snapshot_offer=None,
    )
    assert scale.reference == pytest.approx(1.152)


def test_price_scale_refuses_a_price_that_fits_neither_reading() -> None:
    with pytest.raises(DataFormatError, match=r"price 115 is neither in IG points .* expected about 1.152"):
        EUR_SCALE.to_price(115.0)
