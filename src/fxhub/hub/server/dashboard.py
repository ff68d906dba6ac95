"""`GET /`: the hub's web dashboard, and the static files it loads (docs/hub-api.md, "Dashboard").

The page and its scripts hold no data and no secret, so they are served without a token; the page reads
candles through the ordinary read API with the token the user gives it (kept in the tab's
sessionStorage). plotly.js comes from the installed `plotly` wheel, never from a CDN, so the page works
offline. None of these routes is part of the OpenAPI document: they are a UI, not the API.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Final

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse

from fxhub import __version__
from fxhub.hub.server.errors import HubHTTPError

__all__ = ["ASSETS", "PLOTLY_CACHE_CONTROL", "router"]

PLOTLY_CACHE_CONTROL: Final = "public, max-age=31536000, immutable"  # its URL carries plotly's version
_OWN_CACHE_CONTROL: Final = "no-cache"  # small files: revalidate, so an upgraded hub serves the new ones
# The dashboard's own files, by the name in their URL, with their media type.
ASSETS: Final = {
    "dashboard.css": "text/css",
    "api.js": "text/javascript",
    "calc.js": "text/javascript",
    "charts.js": "text/javascript",
    "main.js": "text/javascript",
    "status.js": "text/javascript",
}
# Scripts only from the hub; plotly sets inline styles on what it draws; data only from the hub itself.
_PAGE_HEADERS: Final = {
    "Cache-Control": _OWN_CACHE_CONTROL,
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; connect-src 'self'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}

router = APIRouter(include_in_schema=False)


def _asset_folder() -> Path:
    return Path(str(resources.files("fxhub.hub.server").joinpath("dashboard")))


def _plotly_version() -> str:
    """The installed plotly package's version (its wheel bundles the plotly.js the page loads)."""
    return importlib.metadata.version("plotly")


def _plotly_js() -> Path:
    spec = importlib.util.find_spec("plotly")
    if spec is None or spec.origin is None:
        raise HubHTTPError(
            404, "plotly is not installed, so the dashboard has no charts; `pip install plotly`"
        )
    return Path(spec.origin).parent / "package_data" / "plotly.min.js"


@cache
def _index_html() -> str:
    """The page with the versions that make its script URLs change when the files do."""
    template = (_asset_folder() / "index.html").read_text(encoding="utf-8")
    return template.replace("{{plotly_version}}", _plotly_version()).replace("{{version}}", __version__)


@router.get("/", name="dashboard")
async def dashboard() -> HTMLResponse:
    """The dashboard page: charts of both sources per pair, live over the WebSocket."""
    return HTMLResponse(_index_html(), headers=_PAGE_HEADERS)


@router.get("/static/plotly.min.js", name="static")
async def plotly_js() -> FileResponse:
    """plotly.js from the installed plotly wheel, cached for a year (the page asks for it by version)."""
    path = _plotly_js()
    if not path.is_file():
        raise HubHTTPError(404, f"plotly.js is not at {path}; reinstall plotly (`pip install plotly`)")
    return FileResponse(
        path,
        media_type="text/javascript",
        headers={"Cache-Control": PLOTLY_CACHE_CONTROL, "X-Content-Type-Options": "nosniff"},
    )


@router.get("/static/dashboard/{name}", name="static")
async def dashboard_asset(name: str) -> FileResponse:
    """One of the dashboard's own scripts or its style sheet (`ASSETS`); nothing else is served."""
    media_type = ASSETS.get(name)
    if media_type is None:
        raise HubHTTPError(404, f"there is no dashboard file {name!r}; the page loads {', '.join(ASSETS)}")
    return FileResponse(
        _asset_folder() / name,
        media_type=media_type,
        headers={"Cache-Control": _OWN_CACHE_CONTROL, "X-Content-Type-Options": "nosniff"},
    )
