from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fxhub.errors import FxhubError, ValidationError
from fxhub.model import SOURCE_VOLUME_TYPE, Candle, PriceBasis, Source, VolumeType

T0 = datetime(2025, 11, 3, 21, 0, tzinfo=UTC)
REQUIRED = {"symbol", "timestamp", "open", "high", "low", "close", "volume", "source", "volume_type"}


def fields(**overrides: Any) -> dict[str, Any]:
    """The keyword arguments of a valid IG candle, with `overrides` applied."""
    base: dict[str, Any] = {
        "symbol": "EUR_USD",
        "timestamp": T0,
        "open": 1.1520,
        "high": 1.1525,
        "low": 1.1518,
        "close": 1.1522,
        "volume": 140.0,
        "source": Source.IG,
        "volume_type": VolumeType.TICK,
    }
    base.update(overrides)
    return base


def full_candle() -> Candle:
    """A CME candle with every extra filled."""
    return Candle(
        symbol="EUR_USD",
        timestamp=T0,
        open=1.15200,
        high=1.15250,
        low=1.15180,
        close=1.15220,
        volume=1234.0,
        source=Source.DATABENTO,
        volume_type=VolumeType.REAL,
        vwap=1.15215,
        buy_volume=600.0,
        sell_volume=634.0,
        trade_count=87,
        quote_count=420,
        avg_spread_pips=0.5,
        max_spread_pips=1.0,
        ofi=-12.0,
        ofi_multi=0.25,
        price_basis=PriceBasis.FUTURES,
        instrument="6EZ5",
        complete=True,
    )


def rejected(**overrides: Any) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        Candle(**fields(**overrides))
    return info.value


def assert_names(err: ValidationError, field: str, rule: str) -> None:
    """The error names the field, the rule, and the value it was given."""
    assert err.field == field
    assert rule in err.rule
    message = str(err)
    assert f"`{field}`" in message
    assert rule in message
    assert f"was {err.value!r}" in message


# --- valid candles and round trips -----------------------------------------------------------------------


def test_candle_with_every_extra_round_trips_through_to_dict_and_from_dict() -> None:
    candle = full_candle()
    assert Candle.from_dict(candle.to_dict()) == candle


def test_the_trusted_paths_rebuild_exactly_what_the_validating_constructor_made() -> None:
    for candle in (full_candle(), Candle(**fields())):
        rebuilt = Candle._from_trusted_dict(candle.to_dict())
        assert rebuilt == candle
        assert [type(getattr(rebuilt, f)) for f in candle.__dataclass_fields__] == [
            type(getattr(candle, f)) for f in candle.__dataclass_fields__
        ]


@pytest.mark.parametrize(
    "change",
    [
        {"volme": 1.0},  # an unknown key
        {"timestamp": "2025-11-03T21:00:30Z"},  # not a minute start
        {"timestamp": "2025-11-03 21:00"},  # another shape
        {"source": "REUTERS"},
    ],
)
def test_the_trusted_dict_path_still_refuses_what_is_not_to_dict_output(change: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Candle._from_trusted_dict(full_candle().to_dict() | change)


def test_candle_to_dict_gives_plain_json_values() -> None:
    assert full_candle().to_dict() == {
        "symbol": "EUR_USD",
        "timestamp": "2025-11-03T21:00:00Z",
        "open": 1.15200,
        "high": 1.15250,
        "low": 1.15180,
        "close": 1.15220,
        "volume": 1234.0,
        "source": "DATABENTO",
        "volume_type": "real",
        "vwap": 1.15215,
        "buy_volume": 600.0,
        "sell_volume": 634.0,
        "trade_count": 87,
        "quote_count": 420,
        "avg_spread_pips": 0.5,
        "max_spread_pips": 1.0,
        "ofi": -12.0,
        "ofi_multi": 0.25,
        "price_basis": "futures",
        "instrument": "6EZ5",
        "complete": True,
    }


def test_candle_round_trips_through_json_text() -> None:
    candle = full_candle()
    text = json.dumps(candle.to_dict())
    assert Candle.from_dict(json.loads(text)) == candle


def test_candle_to_dict_omits_extras_that_are_none() -> None:
    data = Candle(**fields()).to_dict()
    assert set(data) == REQUIRED
    assert Candle.from_dict(data) == Candle(**fields())


def test_candle_from_dict_reads_enum_values_as_text() -> None:
    candle = Candle.from_dict(
        {
            **fields(),
            "timestamp": "2025-11-03T21:00:00Z",
            "source": "IG",
            "volume_type": "tick",
            "price_basis": "spot",
        }
    )
    assert candle.source is Source.IG
    assert candle.volume_type is VolumeType.TICK
    assert candle.price_basis is PriceBasis.SPOT


def test_candle_key_is_symbol_source_value_and_utc_timestamp() -> None:
    assert Candle(**fields()).key == ("EUR_USD", "IG", T0)


def test_candle_accepts_cme_product_root_as_symbol() -> None:
    assert Candle(**fields(symbol="ES")).symbol == "ES"


def test_candle_whole_float_trade_count_is_stored_as_int() -> None:
    candle = Candle(**fields(trade_count=3.0))
    assert candle.trade_count == 3
    assert type(candle.trade_count) is int


# --- timestamps --------------------------------------------------------------------------------------------


def test_candle_timestamp_from_another_zone_is_normalised_to_utc() -> None:
    # 16:00 in New York on 2025-11-03 is EST (UTC-5).
    candle = Candle(**fields(timestamp=datetime(2025, 11, 3, 16, 0, tzinfo=ZoneInfo("America/New_York"))))
    assert candle.timestamp == T0
    assert candle.timestamp.tzinfo is UTC
    assert candle.to_dict()["timestamp"] == "2025-11-03T21:00:00Z"


@pytest.mark.parametrize(
    "text",
    ["2025-11-03T21:00:00Z", "2025-11-03T21:00:00z", "2025-11-03T22:00:00+01:00", " 2025-11-03T21:00Z "],
)
def test_candle_timestamp_from_iso_text_is_utc_datetime(text: str) -> None:
    candle = Candle(**fields(timestamp=text))
    assert candle.timestamp == T0
    assert candle.timestamp.tzinfo is UTC


def test_candle_when_timestamp_naive_names_field_and_ambiguity() -> None:
    naive = datetime(2025, 11, 3, 21, 0)
    err = rejected(timestamp=naive)
    assert_names(err, "timestamp", "must be timezone-aware")
    assert err.value == naive


def test_candle_when_timestamp_text_has_no_offset_is_refused_as_naive() -> None:
    err = rejected(timestamp="2025-11-03T21:00:00")
    assert_names(err, "timestamp", "must be timezone-aware")


def test_candle_when_timestamp_text_is_not_iso_names_field_value_and_example() -> None:
    err = rejected(timestamp="3 Nov 2025 21:00")
    assert_names(err, "timestamp", "must be an ISO 8601 time")
    assert err.value == "3 Nov 2025 21:00"


def test_candle_when_timestamp_is_a_number_names_field_and_rule() -> None:
    err = rejected(timestamp=1762203600)
    assert_names(err, "timestamp", "must be a datetime or ISO 8601 text")


@pytest.mark.parametrize("extra", [timedelta(seconds=30), timedelta(microseconds=1)])
def test_candle_when_timestamp_has_seconds_names_field_value_and_minute_rule(extra: timedelta) -> None:
    err = rejected(timestamp=T0 + extra)
    assert_names(err, "timestamp", "must be a minute start")
    assert err.value == T0 + extra


# --- prices ----------------------------------------------------------------------------------------------


def test_candle_when_high_below_low_names_field_value_and_rule() -> None:
    err = rejected(open=1.1519, close=1.1519, high=1.1518, low=1.1520)
    assert_names(err, "high", "must be ≥ low (1.152)")
    assert err.value == 1.1518


def test_candle_when_open_above_high_names_field_value_and_rule() -> None:
    err = rejected(open=1.1530)
    assert_names(err, "open", "must lie within [low, high] = [1.1518, 1.1525]")
    assert err.value == 1.1530


def test_candle_when_close_below_low_names_field_value_and_rule() -> None:
    err = rejected(close=1.1510)
    assert_names(err, "close", "must lie within [low, high]")
    assert err.value == 1.1510


@pytest.mark.parametrize("name", ["open", "high", "low", "close"])
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_candle_when_price_not_finite_names_field_value_and_rule(name: str, bad: float) -> None:
    err = rejected(**{name: bad})
    assert_names(err, name, "must be finite")
    assert err.value is bad


@pytest.mark.parametrize("name", ["open", "high", "low", "close"])
@pytest.mark.parametrize("bad", [0.0, -1.15])
def test_candle_when_price_not_positive_names_field_value_and_rule(name: str, bad: float) -> None:
    err = rejected(**{name: bad})
    assert_names(err, name, "must be a positive price")
    assert err.value == bad


@pytest.mark.parametrize("name", ["open", "high", "low", "close", "volume"])
def test_candle_when_price_or_volume_is_text_names_field_and_number_rule(name: str) -> None:
    err = rejected(**{name: "1.15"})
    assert_names(err, name, "must be a number")
    assert err.value == "1.15"


@pytest.mark.parametrize("name", ["open", "volume", "vwap", "buy_volume", "ofi"])
def test_candle_when_bool_given_as_number_names_field_and_number_rule(name: str) -> None:
    err = rejected(**{name: True})
    assert_names(err, name, "must be a number")
    assert err.value is True


@pytest.mark.parametrize("name", ["trade_count", "quote_count"])
def test_candle_when_bool_given_as_count_names_field_and_whole_number_rule(name: str) -> None:
    err = rejected(**{name: True})
    assert_names(err, name, "must be a whole number")
    assert err.value is True


def test_candle_when_vwap_not_positive_names_field_and_rule() -> None:
    err = rejected(vwap=0.0)
    assert_names(err, "vwap", "must be a positive price")


# --- volume and extras ------------------------------------------------------------------------------------


def test_candle_when_volume_negative_names_field_value_and_rule() -> None:
    err = rejected(volume=-1)
    assert_names(err, "volume", "must be ≥ 0")
    assert err.value == -1.0


def test_candle_when_volume_nan_names_field_value_and_rule() -> None:
    err = rejected(volume=math.nan)
    assert_names(err, "volume", "must be finite")
    assert math.isnan(err.value)


def test_candle_zero_volume_is_valid() -> None:
    assert Candle(**fields(volume=0)).volume == 0.0


def test_candle_when_buy_plus_sell_volume_above_volume_names_field_and_rule() -> None:
    err = rejected(volume=10.0, buy_volume=6.0, sell_volume=5.0)
    assert_names(err, "buy_volume", "plus sell_volume (5.0) must not exceed volume (10.0)")
    assert err.value == 6.0


def test_candle_buy_plus_sell_equal_to_volume_is_valid() -> None:
    candle = Candle(**fields(volume=0.3, buy_volume=0.1, sell_volume=0.2))
    assert candle.buy_volume == 0.1


@pytest.mark.parametrize("name", ["buy_volume", "sell_volume", "avg_spread_pips", "max_spread_pips"])
def test_candle_when_extra_negative_names_field_value_and_rule(name: str) -> None:
    err = rejected(**{name: -0.5})
    assert_names(err, name, "must be ≥ 0")
    assert err.value == -0.5


def test_candle_when_avg_spread_above_max_spread_names_field_value_and_rule() -> None:
    err = rejected(avg_spread_pips=1.2, max_spread_pips=0.8)
    assert_names(err, "avg_spread_pips", "must be ≤ max_spread_pips (0.8)")
    assert err.value == 1.2


@pytest.mark.parametrize("bad", [2.5, "3"])
def test_candle_when_trade_count_not_whole_number_names_field_value_and_rule(bad: object) -> None:
    err = rejected(trade_count=bad)
    assert_names(err, "trade_count", "must be a whole number")
    assert err.value == bad


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_candle_when_trade_count_nan_or_inf_raises_validation_error_not_arithmetic_error(bad: float) -> None:
    err = rejected(trade_count=bad)
    assert_names(err, "trade_count", "must be a whole number")


def test_candle_when_quote_count_negative_names_field_value_and_rule() -> None:
    err = rejected(quote_count=-1)
    assert_names(err, "quote_count", "must be ≥ 0")
    assert err.value == -1


@pytest.mark.parametrize("bad", [1, "true"])
def test_candle_when_complete_not_bool_names_field_and_rule(bad: object) -> None:
    err = rejected(complete=bad)
    assert_names(err, "complete", "must be true or false")


@pytest.mark.parametrize("bad", ["", 6])
def test_candle_when_instrument_empty_or_not_text_names_field_and_rule(bad: object) -> None:
    err = rejected(instrument=bad)
    assert_names(err, "instrument", "must be a non-empty string")


def test_candle_when_price_basis_unknown_lists_allowed_values() -> None:
    err = rejected(price_basis="forward")
    assert_names(err, "price_basis", "must be one of 'spot', 'futures'")


# --- symbol, source and volume type ---------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["eur_usd", "EUR/USD", "", "EUR_USD_X", "ABCDEFGHIJKLM"])
def test_candle_when_symbol_malformed_names_field_value_and_rule(bad: str) -> None:
    err = rejected(symbol=bad)
    assert_names(err, "symbol", "must be upper-case like 'EUR_USD'")
    assert err.value == bad


def test_candle_when_symbol_has_trailing_newline_is_refused() -> None:
    err = rejected(symbol="EUR_USD\n")
    assert_names(err, "symbol", "must be upper-case like 'EUR_USD'")


def test_candle_when_symbol_not_text_names_field_and_rule() -> None:
    err = rejected(symbol=None)
    assert_names(err, "symbol", "must be upper-case")


def test_candle_when_source_unknown_lists_known_sources() -> None:
    err = rejected(source="BLOOMBERG")
    assert_names(err, "source", "must be one of 'IG', 'DATABENTO'")
    assert err.value == "BLOOMBERG"


def test_candle_when_volume_type_unknown_lists_known_types() -> None:
    err = rejected(volume_type="contracts")
    assert_names(err, "volume_type", "must be one of 'tick', 'real'")
    assert err.value == "contracts"


def test_candle_when_ig_claims_real_volume_names_the_required_type() -> None:
    err = rejected(source=Source.IG, volume_type=VolumeType.REAL)
    assert_names(err, "volume_type", "must be 'tick' for source IG")
    assert err.value == "real"


def test_candle_when_databento_claims_tick_volume_names_the_required_type() -> None:
    err = rejected(source="DATABENTO", volume_type="tick")
    assert_names(err, "volume_type", "must be 'real' for source DATABENTO")


# --- from_dict ------------------------------------------------------------------------------------------


def test_candle_from_dict_when_key_unknown_names_it_and_lists_known_fields() -> None:
    with pytest.raises(ValidationError) as info:
        Candle.from_dict({**fields(), "volumes": 3})
    err = info.value
    assert_names(err, "volumes", "is not a Candle field")
    assert err.value == 3
    assert "known: " in err.rule
    assert "volume" in err.rule
    assert "trade_count" in err.rule


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_candle_from_dict_when_required_key_missing_names_it(name: str) -> None:
    data = fields()
    del data[name]
    with pytest.raises(ValidationError) as info:
        Candle.from_dict(data)
    assert_names(info.value, name, "is required")
    assert info.value.value is None


def test_candle_from_dict_when_not_a_mapping_says_json_object() -> None:
    with pytest.raises(ValidationError) as info:
        Candle.from_dict([("symbol", "EUR_USD")])  # type: ignore[arg-type]
    assert_names(info.value, "candle", "must be a JSON object")


def test_candle_validation_error_is_an_fxhub_error_and_a_value_error() -> None:
    err = rejected(volume=-1)
    assert isinstance(err, FxhubError)
    assert isinstance(err, ValueError)


def test_candle_round_trips_when_year_before_1000_or_is_refused() -> None:
    try:
        candle = Candle(**fields(timestamp=datetime(999, 1, 1, tzinfo=UTC)))
    except ValidationError:
        return  # refusing such a time at construction is an acceptable fix as well
    assert Candle.from_dict(candle.to_dict()) == candle


# --- property --------------------------------------------------------------------------------------------

positive_prices = st.floats(min_value=0.0, exclude_min=True, allow_nan=False, allow_infinity=False)
non_negative = st.floats(min_value=0.0, max_value=1e15, allow_nan=False, allow_infinity=False)
fractions = st.floats(min_value=0.0, max_value=1.0)
symbols = st.from_regex(r"[A-Z0-9]{1,12}(_[A-Z0-9]{1,12})?", fullmatch=True)
minute_starts = st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1)).map(
    lambda t: t.replace(second=0, microsecond=0, tzinfo=UTC)
)


@st.composite
def valid_candles(draw: st.DrawFn) -> Candle:
    low, a, b, high = sorted(draw(st.lists(positive_prices, min_size=4, max_size=4)))
    open_, close = draw(st.permutations([a, b]))
    source = draw(st.sampled_from(Source))
    timestamp = draw(minute_starts)
    zone = draw(st.none() | st.timezones())
    volume = draw(non_negative)
    buy = draw(st.none() | fractions.map(lambda f: volume * f))
    sell = draw(st.none() | fractions.map(lambda f: (volume - (buy or 0.0)) * f))
    spreads = sorted(draw(st.lists(non_negative, min_size=2, max_size=2)))
    with_spreads = draw(st.booleans())
    finite = st.floats(allow_nan=False, allow_infinity=False)
    return Candle(
        symbol=draw(symbols),
        timestamp=timestamp if zone is None else timestamp.astimezone(zone),
        open=open_,
        high=high,
        low=low,
        close=close,
        volume=volume,
        source=source,
        volume_type=SOURCE_VOLUME_TYPE[source],
        vwap=draw(st.none() | st.floats(min_value=low, max_value=high)),
        buy_volume=buy,
        sell_volume=max(sell, 0.0) if sell is not None else None,
        trade_count=draw(st.none() | st.integers(min_value=0, max_value=10**9)),
        quote_count=draw(st.none() | st.integers(min_value=0, max_value=10**9)),
        avg_spread_pips=spreads[0] if with_spreads else None,
        max_spread_pips=spreads[1] if with_spreads else None,
        ofi=draw(st.none() | finite),
        ofi_multi=draw(st.none() | finite),
        price_basis=draw(st.none() | st.sampled_from(PriceBasis)),
        instrument=draw(st.none() | st.text(min_size=1, max_size=12)),
        complete=draw(st.none() | st.booleans()),
    )


@given(valid_candles())
def test_candle_property_any_valid_candle_round_trips_through_to_dict_and_json(candle: Candle) -> None:
    data = candle.to_dict()
    assert Candle.from_dict(data) == candle
    assert Candle.from_dict(json.loads(json.dumps(data))) == candle
    assert candle.timestamp.tzinfo is UTC
    assert candle.low <= min(candle.open, candle.close) <= max(candle.open, candle.close) <= candle.high
