"""A small client for the parts of IG's REST API that the collector needs: login, market details, prices.

- Login: ``POST /session`` version 2 answers with the ``CST`` and ``X-SECURITY-TOKEN`` headers that every
  later request (and the Lightstreamer password) needs. Version 3 answers with OAuth tokens instead,
  which streaming does not accept, so the client then asks ``GET /session?fetchSessionTokens=true``
  for the same two headers. Either way the result is an `IgSession`.
- Tokens last about 6 hours and are extended while in use, up to 72 hours. The client logs in again
  before a request when the session has been idle or alive for nearly that long, and once more when IG
  answers 401 with a token error.
- ``GET /markets/{epic}`` gives the price scale, checked against the instrument table (`PriceScale`).
- ``GET /prices/{epic}`` (version 3, resolution MINUTE, ``pageSize=0``) gives per-minute bid/ask OHLC to
  backfill a gap of the stream. IG's documentation does not say in which clock ``from``/``to`` are read
  (the answer's ``snapshotTime`` is the account's time zone, ``snapshotTimeUTC`` is UTC), so the window
  asked for covers both readings and the rows are picked by ``snapshotTimeUTC``.

What the answers hold is read in `fxhub.sources.ig.rest_messages`. Secrets (API key, password, tokens) are
`Secret`s: masked in every repr, message and log line.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Final, Literal
from urllib.parse import quote

import httpx

from fxhub.instruments import InstrumentTable, load_instruments
from fxhub.settings import Secret, Settings
from fxhub.sources.ig.messages import (
    IgAuthError,
    IgEpicError,
    IgError,
    IgUnreachable,
    price_scale_from_market,
)
from fxhub.sources.ig.rest_messages import (
    IgSession,
    MarketDetails,
    MinutePrice,
    as_float,
    as_object,
    error_code,
    minute_price,
)

__all__ = [
    "REQUEST_TIMEOUT_SECONDS",
    "TOKEN_IDLE_SECONDS",
    "TOKEN_MAX_AGE_SECONDS",
    "IgRestClient",
    "IgSession",
    "MarketDetails",
    "MinutePrice",
]

logger = logging.getLogger(__name__)

REQUEST_TIMEOUT_SECONDS: Final = 10.0
TOKEN_IDLE_SECONDS: Final = 5.5 * 3600
"""Log in again before a request when the tokens have not been used for this long (IG: 6 h)."""
TOKEN_MAX_AGE_SECONDS: Final = 71.0 * 3600
"""Log in again before a request when the tokens are this old (IG extends them up to 72 h)."""

_TOKEN_ERRORS: Final = frozenset(
    {
        "error.security.client-token-invalid",
        "error.security.client-token-missing",
        "error.security.oauth-token-invalid",
        "error.security.account-token-invalid",
        "error.security.account-token-missing",
    }
)
_EPIC_UNAVAILABLE: Final = "error.service.marketdata.instrument.epic.unavailable"
_IG_TIME: Final = "%Y-%m-%dT%H:%M:%S"
_JSON: Final = "application/json; charset=UTF-8"


class IgRestClient:
    """IG's REST API with one session, logged in on first use and refreshed before its tokens expire.

    `transport` is for tests (an `httpx.MockTransport`); `clock` (monotonic seconds) lets tests age the
    tokens. Thread-safe: the live collector backfills from a worker thread.
    """

    def __init__(
        self,
        base_url: str,
        api_key: Secret,
        username: str,
        password: Secret,
        *,
        api_version: Literal[2, 3] = 2,
        table: InstrumentTable | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout_s: float = REQUEST_TIMEOUT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if api_version not in (2, 3):
            raise ValueError(f"api_version must be 2 or 3, was {api_version!r}")
        self.base_url = base_url.rstrip("/")
        self.username = username
        self.api_version = api_version
        self._api_key = api_key
        self._password = password
        self._table = table if table is not None else load_instruments()
        self._clock = clock
        self._http = httpx.Client(base_url=self.base_url, transport=transport, timeout=timeout_s)
        self._lock = threading.RLock()
        self._session: IgSession | None = None
        self._logged_in_at = 0.0
        self._last_used = 0.0
        self.logins = 0

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        api_version: Literal[2, 3] = 2,
        transport: httpx.BaseTransport | None = None,
    ) -> IgRestClient:
        """A client for the account in `settings` (IG_API_KEY, IG_USERNAME, IG_PASSWORD, IG_ACC_TYPE)."""
        settings.require("IG_API_KEY", "IG_USERNAME", "IG_PASSWORD")
        api_key, username, password = settings.ig_api_key, settings.ig_username, settings.ig_password
        if api_key is None or username is None or password is None:  # pragma: no cover - require() said
            raise AssertionError("settings.require() let a missing IG setting through")
        return cls(
            settings.ig_base_url,
            api_key,
            username,
            password,
            api_version=api_version,
            transport=transport,
        )

    def __repr__(self) -> str:
        return (
            f"IgRestClient(base_url={self.base_url!r}, username={self.username!r}, "
            f"api_key={self._api_key!r}, password={self._password!r}, api_version={self.api_version})"
        )

    @property
    def session(self) -> IgSession | None:
        return self._session

    # -- session -----------------------------------------------------------------------------------

    def login(self) -> IgSession:
        """Log in now (version 2, or version 3 plus the session tokens) and return the session."""
        with self._lock:
            session = self._login_v2() if self.api_version == 2 else self._login_v3()
            now = self._clock()
            self._session, self._logged_in_at, self._last_used = session, now, now
            self.logins += 1
            logger.info(
                "IG login ok: account %s, streaming at %s (REST version %d)",
                session.account_id,
                session.lightstreamer_endpoint,
                self.api_version,
            )
            return session

    def ensure_session(self) -> IgSession:
        """The current session; logs in first when there is none or its tokens are close to expiry."""
        with self._lock:
            session = self._session
            if session is None:
                return self.login()
            idle_s = self._clock() - self._last_used
            age_s = self._clock() - self._logged_in_at
            if idle_s >= TOKEN_IDLE_SECONDS or age_s >= TOKEN_MAX_AGE_SECONDS:
                logger.info(
                    "refreshing IG session tokens (idle %.1f h, age %.1f h)", idle_s / 3600, age_s / 3600
                )
                return self.login()
            return session

    def _login_body(self) -> dict[str, str]:
        return {"identifier": self.username, "password": self._password.reveal()}

    def _login_v2(self) -> IgSession:
        response = self._send("POST", "/session", version=2, json=self._login_body(), headers={})
        self._raise_for_login(response)
        body = self._json(response, "POST /session")
        cst, xst = response.headers.get("CST"), response.headers.get("X-SECURITY-TOKEN")
        account, endpoint = body.get("currentAccountId"), body.get("lightstreamerEndpoint")
        if not (cst and xst and isinstance(account, str) and isinstance(endpoint, str)):
            raise IgError(
                "IG's login answer (version 2) lacked the CST / X-SECURITY-TOKEN headers or "
                "currentAccountId / lightstreamerEndpoint; is the base URL an IG REST gateway? "
                f"was {self.base_url}"
            )
        return IgSession(
            account_id=account,
            lightstreamer_endpoint=endpoint,
            cst=Secret(cst),
            security_token=Secret(xst),
            client_id=str(body["clientId"]) if body.get("clientId") is not None else None,
            timezone_offset_hours=as_float(body.get("timezoneOffset")) or 0.0,
            api_version=2,
        )

    def _login_v3(self) -> IgSession:
        response = self._send("POST", "/session", version=3, json=self._login_body(), headers={})
        self._raise_for_login(response)
        body = self._json(response, "POST /session")
        oauth = body.get("oauthToken")
        account = body.get("accountId")
        token = oauth.get("access_token") if isinstance(oauth, dict) else None
        if not (isinstance(token, str) and isinstance(account, str)):
            raise IgError(
                "IG's login answer (version 3) lacked oauthToken.access_token or accountId; "
                f"is the base URL an IG REST gateway? was {self.base_url}"
            )
        access = Secret(token)
        headers = {"Authorization": f"Bearer {access.reveal()}", "IG-ACCOUNT-ID": account}
        tokens = self._send(
            "GET", "/session", version=1, params={"fetchSessionTokens": "true"}, headers=headers
        )
        self._raise_for_login(tokens)
        details = self._json(tokens, "GET /session")
        cst, xst = tokens.headers.get("CST"), tokens.headers.get("X-SECURITY-TOKEN")
        endpoint = body.get("lightstreamerEndpoint") or details.get("lightstreamerEndpoint")
        if not (cst and xst and isinstance(endpoint, str)):
            raise IgError(
                "IG's GET /session?fetchSessionTokens=true did not give the CST / X-SECURITY-TOKEN "
                "headers (or no lightstreamerEndpoint came with the login); streaming needs them"
            )
        return IgSession(
            account_id=account,
            lightstreamer_endpoint=endpoint,
            cst=Secret(cst),
            security_token=Secret(xst),
            client_id=str(body["clientId"]) if body.get("clientId") is not None else None,
            timezone_offset_hours=as_float(body.get("timezoneOffset")) or 0.0,
            api_version=3,
        )

    def _raise_for_login(self, response: httpx.Response) -> None:
        if response.is_success:
            return
        code = error_code(response)
        where = f"IG ({self.base_url})"
        if "api-key" in code:
            raise IgAuthError(
                f"{where} refused the API key {self._api_key} ({code}); check IG_API_KEY: a key belongs "
                f"to one environment, demo or live (IG_ACC_TYPE)"
            )
        if code in ("error.security.invalid-details", "invalid.input") or response.status_code in (401, 403):
            raise IgAuthError(
                f"{where} refused the login of {self.username!r} ({code}); check IG_USERNAME and "
                f"IG_PASSWORD, and that IG_ACC_TYPE names the environment of this account (demo "
                f"accounts have their own credentials)"
            )
        raise IgError(f"{where} answered {response.status_code} to the login ({code}); try again later")

    # -- requests ----------------------------------------------------------------------------------

    def _send(
        self,
        method: str,
        path: str,
        *,
        version: int,
        headers: Mapping[str, str],
        params: Mapping[str, str] | None = None,
        json: Any = None,
    ) -> httpx.Response:
        all_headers = {
            "X-IG-API-KEY": self._api_key.reveal(),
            "VERSION": str(version),
            "Accept": _JSON,
            **headers,
        }
        if json is not None:
            all_headers["Content-Type"] = _JSON
        began = time.perf_counter()
        try:
            response = self._http.request(method, path, headers=all_headers, params=params, json=json)
        except httpx.TimeoutException as exc:
            raise IgUnreachable(
                f"IG ({self.base_url}) did not answer {method} {path} in time ({type(exc).__name__}); "
                f"check the network, then try again"
            ) from None
        except httpx.TransportError as exc:
            raise IgUnreachable(
                f"cannot reach IG at {self.base_url} for {method} {path} ({type(exc).__name__}: {exc}); "
                f"check the network and IG_ACC_TYPE (demo or live)"
            ) from None
        logger.debug(
            "IG %s %s -> %d in %.1f ms",
            method,
            path,
            response.status_code,
            (time.perf_counter() - began) * 1000,
        )
        return response

    def _json(self, response: httpx.Response, what: str) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise IgError(
                f"IG answered {what} with something that is not a JSON object: {response.text[:200]!r}"
            )
        return body

    def _authed(
        self, method: str, path: str, *, version: int, params: Mapping[str, str] | None = None
    ) -> httpx.Response:
        for attempt in (1, 2):
            session = self.ensure_session()
            headers = {"CST": session.cst.reveal(), "X-SECURITY-TOKEN": session.security_token.reveal()}
            response = self._send(method, path, version=version, params=params, headers=headers)
            if response.status_code == 401 and error_code(response) in _TOKEN_ERRORS and attempt == 1:
                logger.info("IG refused the session tokens (%s); logging in again", error_code(response))
                with self._lock:
                    if self._session is session:
                        self.login()
                continue
            if response.is_success:
                with self._lock:
                    self._last_used = self._clock()
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def _raise_for(self, response: httpx.Response, what: str, epic: str) -> None:
        if response.is_success:
            return
        code = error_code(response)
        if response.status_code == 404 or code == _EPIC_UNAVAILABLE or ".epic." in code:
            raise IgEpicError(
                f"IG has no market with epic {epic!r} ({code}, HTTP {response.status_code}); check the "
                f"epic in IG's platform and ig_epics in instruments.toml"
            )
        if response.status_code in (401, 403):
            raise IgAuthError(f"IG refused {what} ({code}); log in again or check the account's permissions")
        raise IgError(f"IG answered {response.status_code} to {what} ({code}); try again later")

    # -- market data -------------------------------------------------------------------------------

    def market(self, epic: str) -> MarketDetails:
        """Market details of `epic` with its price scale, checked against the instrument table."""
        instrument = self._table.by_epic(epic)
        if instrument is None:
            raise IgEpicError(
                f"epic {epic!r} is not in the instrument table; add it to ig_epics of its pair in "
                f"instruments.toml (known pairs: {', '.join(self._table.pairs)})"
            )
        what = f"GET /markets/{epic}"
        response = self._authed("GET", f"/markets/{quote(epic, safe='')}", version=3)
        self._raise_for(response, what, epic)
        body = self._json(response, what)
        snapshot = as_object(body.get("snapshot"))
        details = as_object(body.get("instrument"))
        scaling = as_float(snapshot.get("scalingFactor"))
        one_pip = details.get("onePipMeans")
        bid, offer = as_float(snapshot.get("bid")), as_float(snapshot.get("offer"))
        scale = price_scale_from_market(
            epic=epic,
            instrument=instrument,
            scaling_factor=scaling,
            one_pip_means=one_pip if isinstance(one_pip, str) else None,
            snapshot_bid=bid,
            snapshot_offer=offer,
        )
        places = as_float(snapshot.get("decimalPlacesFactor"))
        assert scaling is not None  # checked by price_scale_from_market
        return MarketDetails(
            epic=epic,
            name=details.get("name") if isinstance(details.get("name"), str) else None,
            market_status=snapshot.get("marketStatus")
            if isinstance(snapshot.get("marketStatus"), str)
            else None,
            scaling_factor=scaling,
            decimal_places_factor=int(places) if places is not None else None,
            one_pip_means=one_pip if isinstance(one_pip, str) else None,
            bid=bid,
            offer=offer,
            scale=scale,
        )

    def prices(self, epic: str, start: datetime, end: datetime) -> list[MinutePrice]:
        """IG's minute prices of `epic` for the minutes starting in [start, end), oldest first."""
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("prices() needs timezone-aware start and end (UTC)")
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        if end <= start:
            return []
        session = self.ensure_session()
        offset = timedelta(hours=session.timezone_offset_hours)
        ask_from, ask_to = min(start, start + offset), max(end, end + offset)
        params = {
            "resolution": "MINUTE",
            "from": ask_from.strftime(_IG_TIME),
            "to": ask_to.strftime(_IG_TIME),
            "pageSize": "0",
        }
        what = f"GET /prices/{epic}"
        response = self._authed("GET", f"/prices/{quote(epic, safe='')}", version=3, params=params)
        self._raise_for(response, what, epic)
        body = self._json(response, what)
        allowance = (
            body.get("metadata", {}).get("allowance") if isinstance(body.get("metadata"), dict) else None
        )
        if isinstance(allowance, dict):
            logger.info("IG historical allowance left: %s", allowance.get("remainingAllowance"))
        rows = body.get("prices")
        if not isinstance(rows, list):
            raise IgError(f"IG answered {what} without a list of prices: {str(body)[:200]!r}")
        out = []
        for row in rows:
            price = minute_price(row, offset)
            if price is not None and start <= price.start < end:
                out.append(price)
        out.sort(key=lambda price: price.start)
        return out

    # -- lifecycle ---------------------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> IgRestClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
