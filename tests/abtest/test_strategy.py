"""The VWAP-bounce scalper's decisions on hand-made candles and market dicts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from fxhub.abtest.strategy import Entry, Exit, Strategy, VwapBounce, VwapBounceConfig
from fxhub.errors import ValidationError
from fxhub.model import Candle, Source, VolumeType

PIP = 0.0001
VWAP, SIGMA = 1.1000, 0.0005  # bands at k = 2: 1.0990 and 1.1010


def _candle(low: float, high: float, close: float) -> Candle:
    return Candle(
        symbol="EUR_USD",
        timestamp=datetime(2024, 1, 9, 14, 0, tzinfo=UTC),
        open=close,
        high=high,
        low=low,
        close=close,
        volume=10.0,
        source=Source.DATABENTO,
        volume_type=VolumeType.REAL,
    )


def _market(position: str | None = None, sigma: float = SIGMA, bars: int = 100) -> dict[str, Any]:
    indicators = {"vwap": VWAP, "vwap_sigma": sigma, "vwap_type": "true_vwap", "vwap_session_bars": bars}
    return {"pair": "EUR_USD", "indicators": indicators, "position": position}


def test_vwap_bounce_is_a_strategy() -> None:
    strategy: Strategy = VwapBounce(PIP)
    assert strategy.name.startswith("vwap_bounce(")


def test_piercing_the_lower_band_and_closing_back_inside_goes_long() -> None:
    (order,) = VwapBounce(PIP).on_candle(_candle(1.0988, 1.0995, 1.0993), _market())
    assert order == Entry(side="long", stop_pips=6.0, target_pips=6.0, reason="lower band")


def test_piercing_the_upper_band_and_closing_back_inside_goes_short() -> None:
    (order,) = VwapBounce(PIP).on_candle(_candle(1.1004, 1.1012, 1.1006), _market())
    assert isinstance(order, Entry)
    assert order.side == "short"


@pytest.mark.parametrize(
    ("candle", "market"),
    [
        (_candle(1.0985, 1.0992, 1.0988), _market()),  # closed outside the band: still stretching
        (_candle(1.0995, 1.1005, 1.1000), _market()),  # never reached a band
        (_candle(1.0988, 1.0995, 1.0993), _market(sigma=1.5 * PIP)),  # bands too narrow
        (_candle(1.0988, 1.0995, 1.0993), _market(bars=10)),  # too early in the session
        (_candle(1.0988, 1.0995, 1.0993), _market() | {"indicators": {"vwap": None, "vwap_sigma": None}}),
        (
            _candle(1.0988, 1.0995, 1.0993),
            _market() | {"indicators": {"vwap": float("nan"), "vwap_sigma": 0.1}},
        ),
    ],
    ids=["outside", "no-touch", "narrow", "early", "no-vwap", "nan-vwap"],
)
def test_no_entry_without_a_clean_bounce(candle: Candle, market: dict[str, Any]) -> None:
    assert VwapBounce(PIP).on_candle(candle, market) == ()


def test_a_long_exits_once_a_candle_closes_at_the_vwap() -> None:
    strategy = VwapBounce(PIP)
    assert strategy.on_candle(_candle(1.0994, 1.0999, 1.0998), _market("long")) == ()
    assert strategy.on_candle(_candle(1.0996, 1.1002, 1.1001), _market("long")) == (Exit(reason="vwap"),)


def test_a_position_is_closed_after_max_hold_bars() -> None:
    strategy = VwapBounce(PIP, VwapBounceConfig(max_hold_bars=3, exit_at_vwap=False))
    answers = [strategy.on_candle(_candle(1.1004, 1.1008, 1.1006), _market("long")) for _ in range(3)]
    assert answers == [(), (), (Exit(reason="time"),)]
    strategy.on_candle(_candle(1.0995, 1.0996, 1.0995), _market(None))  # flat again: the count restarts
    assert strategy.on_candle(_candle(1.1004, 1.1008, 1.1006), _market("short")) == ()


@pytest.mark.parametrize(
    "change",
    [
        {"band_sigmas": 0},
        {"stop_pips": -1.0},
        {"target_pips": float("nan")},
        {"max_hold_bars": 0},
        {"min_session_bars": 1.5},
    ],
)
def test_config_refuses_values_that_make_no_sense(change: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match=next(iter(change))):
        VwapBounceConfig(**change)
