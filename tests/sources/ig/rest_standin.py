"""IG's REST gateway on loopback: login (v2, v3 + fetchSessionTokens), market details, minute prices.

Answers as IG documents and does: tokens in the ``CST`` / ``X-SECURITY-TOKEN`` response headers, error
bodies ``{"errorCode": "error.security.invalid-details"}``, 404 with
``error.service.marketdata.instrument.epic.unavailable`` for an unknown epic. Prices are kept in IG
points (EUR/USD 11520.1, ``scalingFactor`` 10000). ``/prices`` reads ``from``/``to`` in the account's
time zone (``timezoneOffset`` hours ahead of UTC), as ``snapshotTime`` is, so a client that sends UTC
without widening its window misses rows.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from threaded_server import ThreadedServer

WAIT_SECONDS = 10.0
IG_TIME = "%Y-%m-%dT%H:%M:%S"


@dataclass
class StandinMarket:
    """What ``GET /markets/{epic}`` says about one epic."""

    epic: str
    name: str
    bid: float | None
    offer: float | None
    scaling_factor: float = 10000
    one_pip_means: str = "0.0001 USD/EUR"
    decimal_places_factor: int = 1
    market_status: str = "TRADEABLE"


DEFAULT_MARKETS = (
    StandinMarket(epic="CS.D.EURUSD.MINI.IP", name="EUR/USD Mini", bid=11520.1, offer=11520.7),
    StandinMarket(epic="CS.D.GBPUSD.MINI.IP", name="GBP/USD Mini", bid=13120.2, offer=13121.1),
    StandinMarket(
        epic="CS.D.USDJPY.MINI.IP",
        name="USD/JPY Mini",
        bid=15340.1,
        offer=15340.8,
        scaling_factor=100,
        one_pip_means="0.01 JPY/USD",
    ),
)


@dataclass
class SeenRequest:
    method: str
    path: str
    version: str | None
    query: dict[str, str]


@dataclass
class IgRestStandin:
    api_key: str = "api-key-for-tests-0001"
    username: str = "fxhub-trader"
    password: str = "pa$$word-for-tests"
    account_id: str = "ABC123"
    client_id: str = "100200300"
    lightstreamer_endpoint: str = "http://127.0.0.1:1"
    timezone_offset_h: float = 1.0
    markets: dict[str, StandinMarket] = field(
        default_factory=lambda: {m.epic: replace(m) for m in DEFAULT_MARKETS}
    )
    prices: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    requests: list[SeenRequest] = field(default_factory=list)
    logins: int = 0
    port: int = 0

    def __post_init__(self) -> None:
        self._ids = itertools.count(1)
        self._tokens: set[tuple[str, str]] = set()
        self._oauth: set[str] = set()
        self._runner: ThreadedServer | None = None
        self.app = Starlette(
            routes=[
                Route("/session", self._post_session, methods=["POST"]),
                Route("/session", self._get_session, methods=["GET"]),
                Route("/markets/{epic}", self._market, methods=["GET"]),
                Route("/prices/{epic}", self._prices, methods=["GET"]),
            ]
        )

    # -- running -----------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> IgRestStandin:
        self._runner = ThreadedServer(self.app, "ig-rest-standin")
        self.port = self._runner.start(WAIT_SECONDS)
        return self

    def stop(self) -> None:
        if self._runner is not None:
            self._runner.stop(WAIT_SECONDS)

    # -- test controls -----------------------------------------------------------------------------

    def expire_tokens(self) -> None:
        """Every issued CST / X-SECURITY-TOKEN pair stops working, as after 6 idle hours."""
        self._tokens.clear()

    def add_minute(
        self,
        epic: str,
        start: datetime,
        bid: tuple[float, float, float, float],
        ask: tuple[float, float, float, float],
        volume: int | None,
    ) -> None:
        """One row of ``GET /prices/{epic}`` (prices in IG points)."""
        local = start.astimezone(UTC) + timedelta(hours=self.timezone_offset_h)
        row: dict[str, Any] = {
            "snapshotTime": local.strftime("%Y/%m/%d %H:%M:%S"),
            "snapshotTimeUTC": start.astimezone(UTC).strftime(IG_TIME),
        }
        for index, key in enumerate(("openPrice", "highPrice", "lowPrice", "closePrice")):
            row[key] = {"bid": bid[index], "ask": ask[index], "lastTraded": None}
        row["lastTradedVolume"] = volume
        self.prices.setdefault(epic, []).append(row)

    # -- handlers ----------------------------------------------------------------------------------

    def _seen(self, request: Request) -> None:
        self.requests.append(
            SeenRequest(
                request.method, request.url.path, request.headers.get("VERSION"), dict(request.query_params)
            )
        )

    @staticmethod
    def _error(status: int, code: str) -> JSONResponse:
        return JSONResponse({"errorCode": code}, status_code=status)

    def _issue(self) -> tuple[str, str]:
        n = next(self._ids)
        pair = (f"cst-token-{n:04d}-abcdef", f"xst-token-{n:04d}-123456")
        self._tokens.add(pair)
        return pair

    def _authorised(self, request: Request) -> JSONResponse | None:
        if request.headers.get("X-IG-API-KEY") != self.api_key:
            return self._error(403, "error.security.api-key-invalid")
        pair = (request.headers.get("CST", ""), request.headers.get("X-SECURITY-TOKEN", ""))
        if pair not in self._tokens:
            return self._error(401, "error.security.client-token-invalid")
        return None

    async def _post_session(self, request: Request) -> JSONResponse:
        self._seen(request)
        if request.headers.get("X-IG-API-KEY") != self.api_key:
            return self._error(403, "error.security.api-key-invalid")
        body = await request.json()
        if body.get("identifier") != self.username or body.get("password") != self.password:
            return self._error(401, "error.security.invalid-details")
        self.logins += 1
        version = request.headers.get("VERSION", "1")
        if version == "3":
            token = f"oauth-access-{next(self._ids):04d}"
            self._oauth.add(token)
            return JSONResponse(
                {
                    "clientId": self.client_id,
                    "accountId": self.account_id,
                    "timezoneOffset": self.timezone_offset_h,
                    "lightstreamerEndpoint": self.lightstreamer_endpoint,
                    "oauthToken": {
                        "access_token": token,
                        "refresh_token": "oauth-refresh",
                        "scope": "profile",
                        "token_type": "Bearer",
                        "expires_in": "60",
                    },
                }
            )
        cst, xst = self._issue()
        return JSONResponse(
            {
                "accountType": "CFD",
                "currencyIsoCode": "GBP",
                "currentAccountId": self.account_id,
                "lightstreamerEndpoint": self.lightstreamer_endpoint,
                "clientId": self.client_id,
                "timezoneOffset": self.timezone_offset_h,
                "accounts": [{"accountId": self.account_id, "accountName": "CFD", "preferred": True}],
            },
            headers={"CST": cst, "X-SECURITY-TOKEN": xst},
        )

    async def _get_session(self, request: Request) -> JSONResponse:
        self._seen(request)
        if request.headers.get("X-IG-API-KEY") != self.api_key:
            return self._error(403, "error.security.api-key-invalid")
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if bearer not in self._oauth or request.headers.get("IG-ACCOUNT-ID") != self.account_id:
            return self._error(401, "error.security.oauth-token-invalid")
        body = {
            "clientId": self.client_id,
            "accountId": self.account_id,
            "timezoneOffset": self.timezone_offset_h,
            "locale": "en_GB",
            "currency": "GBP",
            "lightstreamerEndpoint": self.lightstreamer_endpoint,
        }
        if request.query_params.get("fetchSessionTokens") != "true":
            return JSONResponse(body)
        cst, xst = self._issue()
        return JSONResponse(body, headers={"CST": cst, "X-SECURITY-TOKEN": xst})

    async def _market(self, request: Request) -> JSONResponse:
        self._seen(request)
        refused = self._authorised(request)
        if refused is not None:
            return refused
        market = self.markets.get(request.path_params["epic"])
        if market is None:
            return self._error(404, "error.service.marketdata.instrument.epic.unavailable")
        return JSONResponse(
            {
                "instrument": {
                    "epic": market.epic,
                    "name": market.name,
                    "onePipMeans": market.one_pip_means,
                    "type": "CURRENCIES",
                },
                "dealingRules": {},
                "snapshot": {
                    "marketStatus": market.market_status,
                    "bid": market.bid,
                    "offer": market.offer,
                    "decimalPlacesFactor": market.decimal_places_factor,
                    "scalingFactor": market.scaling_factor,
                },
            }
        )

    async def _prices(self, request: Request) -> JSONResponse:
        self._seen(request)
        refused = self._authorised(request)
        if refused is not None:
            return refused
        epic = request.path_params["epic"]
        if epic not in self.markets:
            return self._error(404, "error.service.marketdata.instrument.epic.unavailable")
        query = request.query_params
        if request.headers.get("VERSION") != "3" or query.get("resolution") != "MINUTE":
            return self._error(400, "validation.null-not-allowed.request")
        offset = timedelta(hours=self.timezone_offset_h)
        start = datetime.strptime(query["from"], IG_TIME).replace(tzinfo=UTC) - offset
        end = datetime.strptime(query["to"], IG_TIME).replace(tzinfo=UTC) - offset
        rows = [
            row
            for row in self.prices.get(epic, [])
            if start <= datetime.strptime(row["snapshotTimeUTC"], IG_TIME).replace(tzinfo=UTC) <= end
        ]
        return JSONResponse(
            {
                "prices": rows,
                "instrumentType": "CURRENCIES",
                "metadata": {
                    "allowance": {
                        "remainingAllowance": 9990,
                        "totalAllowance": 10000,
                        "allowanceExpiry": 3600,
                    },
                    "size": len(rows),
                    "pageData": {"pageSize": 0, "pageNumber": 1, "totalPages": 1},
                },
            }
        )
