"""The dashboard (`GET /`) in a real browser: a real hub process holds candles of both sources, headless
Chromium (Debian's package) loads the page, and the DOM and a screenshot show what a person would see.

Chromium is required: when it is missing the tests fail and say how to install it (.ci/run does).
"""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from headless import decode_png, open_page, require_chromium, run_chromium

from fxhub.hub.server.dashboard import ASSETS, PLOTLY_CACHE_CONTROL
from fxhub.model import Candle, PriceBasis, Source, VolumeType

MINUTES = 90
PAIR = "EUR_USD"


def futures_minute(rng: random.Random, pair: str, ts: datetime, prices: list[float]) -> Candle:
    """A CME minute as the Databento collector builds it: real volume, aggressor sides and OFI."""
    volume = float(rng.randint(40, 400))
    buy = float(round(volume * rng.uniform(0.3, 0.7)))
    return Candle(
        symbol=pair, timestamp=ts, open=prices[0], high=max(prices) + 0.00003, low=min(prices) - 0.00003,
        close=prices[-1], volume=volume, source=Source.DATABENTO, volume_type=VolumeType.REAL,
        buy_volume=buy, sell_volume=volume - buy, trade_count=rng.randint(10, 90),
        ofi=float(rng.randint(-60, 60)), price_basis=PriceBasis.FUTURES, instrument="6EZ5",
    )  # fmt: skip


def spot_minute(rng: random.Random, pair: str, ts: datetime, prices: list[float]) -> Candle:
    """An IG minute as the IG collector builds it: tick volume (quote updates) and spreads."""
    quotes = rng.randint(20, 160)
    spread = rng.uniform(0.5, 0.9)
    return Candle(
        symbol=pair, timestamp=ts, open=prices[0], high=max(prices) + 0.00003, low=min(prices) - 0.00003,
        close=prices[-1], volume=float(quotes), source=Source.IG, volume_type=VolumeType.TICK,
        quote_count=quotes, avg_spread_pips=spread, max_spread_pips=spread + 0.4,
        price_basis=PriceBasis.SPOT, instrument="CS.D.EURUSD.MINI.IP",
    )  # fmt: skip


def market(pair: str, end: datetime, minutes: int, seed: int = 7) -> list[Candle]:
    """`minutes` of both sources up to the minute `end`, futures 2 pips over spot, as a random walk."""
    rng = random.Random(seed)
    candles: list[Candle] = []
    mid = 1.15200
    for i in range(minutes):
        ts = end - timedelta(minutes=minutes - 1 - i)
        prices = [mid]
        for _ in range(3):
            prices.append(prices[-1] + rng.gauss(0, 0.00012))
        mid = prices[-1]
        candles.append(futures_minute(rng, pair, ts, [price + 0.0002 for price in prices]))
        candles.append(spot_minute(rng, pair, ts, prices))
    return candles


def push(hub: Any, candles: list[Candle]) -> None:
    body = {"candles": [candle.to_dict() for candle in candles]}
    answer = httpx.post(f"{hub.url}/v1/candles", json=body, headers=hub.headers, timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.json()["inserted"] == len(candles)


@pytest.fixture
def hub_with_market(hub_process: Any) -> Any:
    """A real hub process holding `MINUTES` of EUR_USD from both sources, up to the current minute."""
    require_chromium()  # fail before starting anything when the browser is missing
    hub = hub_process()
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    push(hub, market(PAIR, now, MINUTES))
    return hub


def status_of(dom: str) -> dict[str, str]:
    """The data attributes the page sets on #render-status once the charts are drawn."""
    element = re.search(r'<div id="render-status"([^>]*)>', dom)
    assert element is not None, dom[:2000]
    return dict(re.findall(r'data-([a-z-]+)="([^"]*)"', element.group(1)))


def test_dashboard_draws_candles_of_both_sources_with_legends_and_axis_units(
    hub_with_market: Any, tmp_path: Path
) -> None:
    hub = hub_with_market
    dom = run_chromium(tmp_path, "--dump-dom", f"{hub.url}/#token={hub.token}")

    status = status_of(dom)
    assert status["rendered"] == "1", status
    assert status["pair"] == PAIR
    assert status["sources"] == "DATABENTO,IG"
    assert int(status["points"]) == 2 * MINUTES  # every candle of both sources is in the 2-hour window
    assert status["ws"] == "open"  # the live stream is connected
    assert "error" not in status
    legend = re.findall(r'class="legend\d*text"[^>]*>([^<]*)<', dom)  # plotly: legend, legend2, ...
    for name in (
        "DATABENTO · CME futures",
        "IG · spot",
        "VWAP · CME futures (real volume)",
        "TWAP · CME futures",
        "TWAP · IG spot",
        "Real volume · DATABENTO (contracts)",
        "Tick volume · IG (quote updates)",
        "Delta = buy − sell (contracts)",
        "OFI, best level (contracts)",
    ):
        assert name in legend, legend
    # plotly draws one box path per candle: both sources' candles are on the chart.
    assert len(re.findall(r'<path class="box"', dom)) == 2 * MINUTES
    for title in ("Time (UTC)", "Price (USD per EUR)", "Real volume (contracts)", "Tick volume (quotes)"):
        assert title in dom
    cards = re.findall(r'data-pair="EUR_USD" data-source="(DATABENTO|IG)"[^>]*>.*?ago<', dom)
    assert sorted(cards) == ["DATABENTO", "IG"]  # collector status: the newest minute and its age
    assert hub.token not in dom  # nothing of the token is written into the document


def test_dashboard_without_a_token_asks_for_one_and_draws_nothing(
    hub_with_market: Any, tmp_path: Path
) -> None:
    dom = run_chromium(tmp_path, "--dump-dom", f"{hub_with_market.url}/")

    status = status_of(dom)
    assert status.get("error") == "unauthorized"
    assert status["rendered"] == "0"
    assert re.search(r'<form id="token-form"(?![^>]*hidden)', dom)
    assert "needs its token for reads" in dom


def test_dashboard_screenshot_is_a_real_picture_of_both_sources(hub_with_market: Any, tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    url = f"{hub_with_market.url}/#token={hub_with_market.token}"
    run_chromium(tmp_path, f"--screenshot={shot}", "--window-size=1400,1000", url)

    data = shot.read_bytes()
    assert len(data) > 20_000
    width, height, pixels = decode_png(data)
    assert (width, height) == (1400, 1000)
    colours = {pixels[i : i + 3] for i in range(0, len(pixels), 3 * 7)}
    assert len(colours) > 50, len(colours)
    # Both sources' hues are on screen: DATABENTO blue (#4aa3ff) and IG amber (#ffb020).
    assert any(b > 200 and r < 120 and 120 < g < 200 for r, g, b in colours)
    assert any(r > 220 and 140 < g < 200 and b < 80 for r, g, b in colours)


def test_dashboard_moves_the_token_out_of_the_address_and_draws_pushed_candles_live(
    hub_with_market: Any, tmp_path: Path
) -> None:
    hub = hub_with_market
    with open_page(tmp_path, f"{hub.url}/#token={hub.token}") as page:
        status = "(document.getElementById('render-status')?.dataset ?? {})"  # {} until the page loads
        page.wait_for(f"{status}.rendered === '1' && {status}.ws === 'open'")
        assert page.evaluate(f"{status}.points") == str(2 * MINUTES)
        assert page.evaluate("location.href") == f"{hub.url}/"
        assert page.evaluate("sessionStorage.getItem('fxhub.token')") == hub.token

        later = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
        push(hub, market(PAIR, later, 1, seed=8))

        page.wait_for(f"{status}.live === '2'")
        assert page.wait_for(f"{status}.points === '{2 * MINUTES + 2}' && {status}.points")


@pytest.mark.anyio
async def test_dashboard_page_and_files_are_served_without_a_token_and_hold_no_secret(
    hub: Any, token: str
) -> None:
    page = await hub.client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert token not in page.text
    assert "/static/plotly.min.js?v=" in page.text
    for name in ASSETS:
        asset = await hub.client.get(f"/static/dashboard/{name}")
        assert asset.status_code == 200, name
        assert asset.headers["content-type"].startswith(ASSETS[name])
    plotly = await hub.client.get("/static/plotly.min.js")
    assert plotly.status_code == 200
    assert plotly.headers["cache-control"] == PLOTLY_CACHE_CONTROL
    assert len(plotly.content) > 1_000_000  # the whole bundled library, nothing fetched from elsewhere


@pytest.mark.anyio
@pytest.mark.parametrize("name", ["index.html", "../dashboard.py", "secret.js"])
async def test_dashboard_serves_only_its_own_files(hub: Any, name: str) -> None:
    answer = await hub.client.get(f"/static/dashboard/{name}")
    assert answer.status_code == 404
    assert "error" in answer.json()


@pytest.mark.anyio
async def test_dashboard_routes_stay_out_of_the_openapi_document(hub: Any) -> None:
    paths = (await hub.client.get("/openapi.json")).json()["paths"]
    assert not [path for path in paths if not path.startswith(("/v1/", "/healthz", "/metrics"))]
