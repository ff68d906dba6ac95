"""The HTML report: readable, self-contained, both curves and both intervals; other suffixes refused."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from fxhub.abtest.backtest import Costs
from fxhub.abtest.compare import run_ab_test
from fxhub.abtest.data import MarketBars
from fxhub.abtest.report import write_report
from fxhub.abtest.strategy import VwapBounce
from fxhub.errors import ConfigError


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)


def figure_data(page: str) -> list[dict[str, Any]]:
    """The traces of the plotly figure in a report page."""
    parser = _Collect()
    parser.feed(page)
    call = next(s for s in parser.scripts if "Plotly.newPlot(" in s)
    start = call.index("[", call.index("Plotly.newPlot("))
    traces, _ = json.JSONDecoder().raw_decode(call[start:])
    assert isinstance(traces, list)
    return traces


def test_report_holds_both_equity_curves_and_win_rate_intervals_offline(
    real_bars: MarketBars, tmp_path: Path
) -> None:
    summary = run_ab_test(real_bars, lambda: VwapBounce(real_bars.pip_size), Costs()).summary
    path = write_report(summary, tmp_path / "ab.html")
    page = path.read_text(encoding="utf-8")
    parser = _Collect()
    parser.feed(page)
    assert {"html", "table", "script"} <= set(parser.tags)
    assert not re.search(r"<script[^>]+src=", page)  # plotly.js is embedded, no CDN
    assert "Verdict:" in page
    traces = figure_data(page)
    curves = [t for t in traces if t.get("mode") == "lines"]
    assert [t["name"] for t in curves] == ["A: true_vwap", "B: twap"]
    for curve, variant in zip(curves, summary["variants"], strict=True):
        assert len(curve["y"]) == variant["trades"] + 1
        assert curve["y"][-1] == pytest.approx(variant["total_pips"])
    intervals = [t for t in traces if "error_y" in t]
    assert len(intervals) == 2
    for trace, variant in zip(intervals, summary["variants"], strict=True):
        assert trace["y"] == [pytest.approx(variant["win_rate"])]
        assert trace["error_y"]["array"][0] == pytest.approx(
            variant["win_rate_ci95"][1] - variant["win_rate"]
        )


@pytest.mark.parametrize("name", ["ab.png", "ab.pdf", "ab"])
def test_report_refuses_anything_but_html(tmp_path: Path, name: str) -> None:
    with pytest.raises(ConfigError, match=r"--report takes an \.html path"):
        write_report({}, tmp_path / name)
    assert not (tmp_path / name).exists()
