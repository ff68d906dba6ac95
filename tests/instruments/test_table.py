from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from fxhub.errors import ConfigError
from fxhub.instruments import Instrument, get_instrument, load_instruments

AUD_USD_TOML = """
[AUD_USD]
base = "AUD"
quote = "USD"
pip_size = 0.0001
ig_epics = ["CS.D.AUDUSD.MINI.IP", "CS.D.AUDUSD.CFD.IP"]
ig_price_increment = 0.00001

[AUD_USD.cme]
product = "6A"
contract_size = 100000
tick_size = 0.00005
tick_value_usd = 5.0
inverted = false
"""


def shipped_toml() -> str:
    return resources.files("fxhub.instruments").joinpath("instruments.toml").read_text(encoding="utf-8")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "instruments.toml"
    path.write_text(text, encoding="utf-8")
    return path


# --- the shipped table ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pair", "product", "contract_size", "tick_size", "pip_size", "inverted"),
    [
        ("EUR_USD", "6E", 125_000, 0.00005, 0.0001, False),
        ("GBP_USD", "6B", 62_500, 0.0001, 0.0001, False),
        ("USD_JPY", "6J", 12_500_000, 0.0000005, 0.01, True),
    ],
)
def test_shipped_pair_has_its_cme_contract_spec(
    pair: str, product: str, contract_size: int, tick_size: float, pip_size: float, inverted: bool
) -> None:
    instrument = get_instrument(pair)
    assert instrument.pair == pair
    assert instrument.pip_size == pip_size
    assert instrument.cme is not None
    assert instrument.cme.product == product
    assert instrument.cme.contract_size == contract_size
    assert instrument.cme.tick_size == tick_size
    assert instrument.cme.tick_value_usd == 6.25
    assert instrument.cme.inverted is inverted
    assert instrument.cme.parent_symbol == f"{product}.FUT"


def test_shipped_tick_value_is_contract_size_times_tick_size_in_usd_for_usd_quoted_futures() -> None:
    for pair in ("EUR_USD", "GBP_USD", "USD_JPY"):
        cme = get_instrument(pair).cme
        assert cme is not None
        assert cme.contract_size * cme.tick_size == pytest.approx(cme.tick_value_usd)


def test_shipped_table_has_exactly_the_three_pairs_in_file_order() -> None:
    assert load_instruments().pairs == ("EUR_USD", "GBP_USD", "USD_JPY")


def test_shipped_pair_currencies_match_its_name() -> None:
    for instrument in load_instruments().instruments:
        assert f"{instrument.base}_{instrument.quote}" == instrument.pair


@pytest.mark.parametrize(("product", "pair"), [("6E", "EUR_USD"), ("6B", "GBP_USD"), ("6J", "USD_JPY")])
def test_by_cme_product_finds_the_pair_of_an_fx_future(product: str, pair: str) -> None:
    found = load_instruments().by_cme_product(product)
    assert found is not None
    assert found.pair == pair


def test_by_cme_product_for_non_fx_future_es_is_none() -> None:
    assert load_instruments().by_cme_product("ES") is None


@pytest.mark.parametrize(
    ("epic", "pair"),
    [
        ("CS.D.EURUSD.MINI.IP", "EUR_USD"),
        ("CS.D.EURUSD.CFD.IP", "EUR_USD"),
        ("CS.D.GBPUSD.MINI.IP", "GBP_USD"),
        ("CS.D.USDJPY.CFD.IP", "USD_JPY"),
    ],
)
def test_by_epic_finds_the_pair_of_any_of_its_epics(epic: str, pair: str) -> None:
    found = load_instruments().by_epic(epic)
    assert found is not None
    assert found.pair == pair


def test_by_epic_for_unknown_epic_is_none() -> None:
    assert load_instruments().by_epic("CS.D.AUDUSD.MINI.IP") is None


def test_ig_epic_default_is_the_first_listed() -> None:
    assert get_instrument("EUR_USD").ig_epic == "CS.D.EURUSD.MINI.IP"


def test_get_instrument_when_pair_unknown_lists_known_pairs_and_the_data_file() -> None:
    with pytest.raises(ConfigError) as info:
        get_instrument("AUD_USD")
    message = str(info.value)
    assert "'AUD_USD'" in message
    assert "EUR_USD, GBP_USD, USD_JPY" in message
    assert "instruments.toml" in message


def test_load_instruments_without_path_returns_the_cached_shipped_table() -> None:
    assert load_instruments() is load_instruments()


def test_rate_of_a_listed_currency_and_config_error_for_an_unlisted_one() -> None:
    table = load_instruments()
    assert table.rate("USD") == 0.04
    assert table.rate("JPY") == 0.005
    with pytest.raises(ConfigError, match=r"'CHF'.*\[rates\]"):
        table.rate("CHF")


# --- prices: 6J inversion and pips ----------------------------------------------------------------------


def test_6j_spot_from_futures_is_the_reciprocal() -> None:
    usd_jpy = get_instrument("USD_JPY")
    assert usd_jpy.spot_from_futures(0.0066850) == pytest.approx(149.59, abs=0.005)
    assert usd_jpy.spot_from_futures(0.0066850) == 1.0 / 0.0066850


def test_6j_spot_ohlc_from_futures_swaps_high_and_low() -> None:
    usd_jpy = get_instrument("USD_JPY")
    open_, high, low, close = 0.0066850, 0.0067000, 0.0066600, 0.0066900
    spot = usd_jpy.spot_ohlc_from_futures(open_, high, low, close)
    assert spot == (1.0 / open_, 1.0 / low, 1.0 / high, 1.0 / close)
    s_open, s_high, s_low, s_close = spot
    assert s_low <= min(s_open, s_close) <= max(s_open, s_close) <= s_high


@pytest.mark.parametrize("pair", ["EUR_USD", "GBP_USD"])
def test_non_inverted_pair_keeps_futures_prices_unchanged(pair: str) -> None:
    instrument = get_instrument(pair)
    assert instrument.spot_from_futures(1.15235) == 1.15235
    assert instrument.spot_ohlc_from_futures(1.1520, 1.1525, 1.1518, 1.1522) == (
        1.1520,
        1.1525,
        1.1518,
        1.1522,
    )


def test_pair_without_cme_product_keeps_prices_unchanged(tmp_path: Path) -> None:
    text = AUD_USD_TOML.split("[AUD_USD.cme]")[0]
    aud = load_instruments(write(tmp_path, text)).get("AUD_USD")
    assert aud.cme is None
    assert aud.spot_from_futures(0.65) == 0.65
    assert aud.spot_ohlc_from_futures(0.65, 0.66, 0.64, 0.655) == (0.65, 0.66, 0.64, 0.655)


@pytest.mark.parametrize(
    ("pair", "difference", "pips"),
    [("EUR_USD", 0.0012, 12.0), ("GBP_USD", -0.00005, -0.5), ("USD_JPY", 0.25, 25.0)],
)
def test_pips_divides_a_price_difference_by_the_pip_size(pair: str, difference: float, pips: float) -> None:
    assert get_instrument(pair).pips(difference) == pytest.approx(pips)


# --- custom tables: adding a pair is a data change ------------------------------------------------------


def test_load_instruments_with_an_extra_pair_in_toml_needs_no_code_change(tmp_path: Path) -> None:
    table = load_instruments(write(tmp_path, shipped_toml() + AUD_USD_TOML))
    assert table.pairs == ("EUR_USD", "GBP_USD", "USD_JPY", "AUD_USD")
    aud = table.get("AUD_USD")
    assert isinstance(aud, Instrument)
    assert (aud.base, aud.quote, aud.pip_size) == ("AUD", "USD", 0.0001)
    assert aud.ig_epics == ("CS.D.AUDUSD.MINI.IP", "CS.D.AUDUSD.CFD.IP")
    assert aud.cme is not None
    assert (aud.cme.product, aud.cme.contract_size, aud.cme.inverted) == ("6A", 100_000, False)
    assert aud.sim is None
    assert table.by_cme_product("6A") is aud
    assert table.by_epic("CS.D.AUDUSD.CFD.IP") is aud
    assert table.get("EUR_USD") == get_instrument("EUR_USD")
    assert table.rate("EUR") == 0.02


def test_load_instruments_custom_table_does_not_change_the_shipped_one(tmp_path: Path) -> None:
    load_instruments(write(tmp_path, AUD_USD_TOML))
    assert "AUD_USD" not in load_instruments().pairs
    with pytest.raises(ConfigError):
        get_instrument("AUD_USD")


def test_load_instruments_reads_sim_profile_when_present(tmp_path: Path) -> None:
    text = (
        AUD_USD_TOML
        + """
[AUD_USD.sim]
mid = 0.6550
mid_range = [0.60, 0.70]
annual_vol = 0.09
spread_pips = 0.8
quotes_per_minute = 120
cme_trades_per_minute = 30
cme_book_updates_per_minute = 200
"""
    )
    sim = load_instruments(write(tmp_path, text)).get("AUD_USD").sim
    assert sim is not None
    assert sim.mid == 0.6550
    assert sim.mid_range == (0.60, 0.70)
    assert sim.cme_book_updates_per_minute == 200.0


@pytest.mark.parametrize(
    ("broken", "detail"),
    [
        (AUD_USD_TOML.replace("pip_size = 0.0001\n", ""), "pip_size"),
        (AUD_USD_TOML.replace("pip_size = 0.0001", 'pip_size = "a pip"'), "a pip"),
        (AUD_USD_TOML.replace('product = "6A"\n', ""), "product"),
        (AUD_USD_TOML.replace("contract_size = 100000", 'contract_size = "lots"'), "lots"),
    ],
)
def test_load_instruments_when_entry_malformed_config_error_names_pair_file_and_problem(
    tmp_path: Path, broken: str, detail: str
) -> None:
    path = write(tmp_path, broken)
    with pytest.raises(ConfigError) as info:
        load_instruments(path)
    message = str(info.value)
    assert "'AUD_USD'" in message
    assert str(path) in message
    assert detail in message
    assert "is malformed" in message


def test_load_instruments_when_cme_is_not_a_table_config_error_names_pair(tmp_path: Path) -> None:
    text = AUD_USD_TOML.split("[AUD_USD.cme]")[0].replace("[AUD_USD]\n", '[AUD_USD]\ncme = "6A"\n')
    with pytest.raises(ConfigError, match="'AUD_USD'"):
        load_instruments(write(tmp_path, text))


def test_load_instruments_when_pair_entry_is_not_a_table_config_error_names_pair(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="'AUD_USD'"):
        load_instruments(write(tmp_path, 'AUD_USD = "6A"\n'))


def test_load_instruments_when_inverted_is_text_config_error_names_pair(tmp_path: Path) -> None:
    text = AUD_USD_TOML.replace("inverted = false", 'inverted = "false"')
    with pytest.raises(ConfigError, match="'AUD_USD'"):
        load_instruments(write(tmp_path, text))


def test_load_instruments_when_ig_epics_is_a_string_config_error_names_pair(tmp_path: Path) -> None:
    text = AUD_USD_TOML.replace('["CS.D.AUDUSD.MINI.IP", "CS.D.AUDUSD.CFD.IP"]', '"CS.D.AUDUSD.MINI.IP"')
    with pytest.raises(ConfigError, match="'AUD_USD'"):
        load_instruments(write(tmp_path, text))


def test_load_instruments_when_rate_not_a_number_config_error_names_currency(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="USD"):
        load_instruments(write(tmp_path, '[rates]\nUSD = "four percent"\n' + AUD_USD_TOML))


def test_load_instruments_when_file_missing_config_error_names_path(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    with pytest.raises(ConfigError, match="Cannot read the instrument table") as info:
        load_instruments(path)
    assert str(path) in str(info.value)


def test_load_instruments_when_toml_syntax_invalid_config_error_names_path(tmp_path: Path) -> None:
    path = write(tmp_path, "[AUD_USD\nbase = \n")
    with pytest.raises(ConfigError, match="Cannot read the instrument table") as info:
        load_instruments(path)
    assert str(path) in str(info.value)
