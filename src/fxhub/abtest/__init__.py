"""A/B tests of a scalping strategy on two VWAP weightings: real volume against tick counts or TWAP.

`run_ab_test(load_bar_file(path), lambda: VwapBounce(pip_size), Costs())` runs the reference VWAP-bounce
scalper on both variants and returns the figures, the tests and a verdict; `write_report` draws them.
"""

from fxhub.abtest.backtest import BacktestResult, Costs, Decision, Trade, run_backtest
from fxhub.abtest.compare import ABTestResult, run_ab_test
from fxhub.abtest.data import MarketBars, NoABDataError, Variant, load_bar_file, load_from_hub
from fxhub.abtest.report import write_report
from fxhub.abtest.strategy import Entry, Exit, Order, Strategy, VwapBounce, VwapBounceConfig

__all__ = [
    "ABTestResult",
    "BacktestResult",
    "Costs",
    "Decision",
    "Entry",
    "Exit",
    "MarketBars",
    "NoABDataError",
    "Order",
    "Strategy",
    "Trade",
    "Variant",
    "VwapBounce",
    "VwapBounceConfig",
    "load_bar_file",
    "load_from_hub",
    "run_ab_test",
    "run_backtest",
    "write_report",
]
