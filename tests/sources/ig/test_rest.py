"""The IG REST client (httpx) against IG's REST gateway stand-in on loopback."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from rest_standin import IgRestStandin

from fxhub.errors import ConfigError
from fxhub.settings import Secret, Settings
from fxhub.sources.ig.messages import IgAuthError, IgEpicError, IgPriceScaleError, IgUnreachable
from fxhub.sources.ig.rest import TOKEN_IDLE_SECONDS, TOKEN_MAX_AGE_SECONDS, IgRestClient

EPIC = "CS.D.EURUSD.MINI.IP"
T0 = datetime(2024, 1, 3, 10, 0, tzinfo=UTC)  # a Wednesday
MakeClient = Callable[..., IgRestClient]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_login_v2_gives_the_account_the_stream_endpoint_and_both_tokens(
    ig_rest: IgRestStandin, ig_rest_client: MakeClient
) -> None:
    client = ig_rest_client()
    session = client.login()
    assert session.account_id == "ABC123"
    assert session.lightstreamer_endpoint == ig_rest.lightstreamer_endpoint
    assert session.cst.reveal() == "cst-token-0001-abcdef"
    assert session.security_token.reveal() == "xst-token-0001-123456"
    assert session.stream_password.reveal() == "CST-cst-token-0001-abcdef|XST-xst-token-0001-123456"
    assert session.timezone_offset_hours == 1.0
    assert [(r.method, r.path, r.version) for r in ig_rest.requests] == [("POST", "/session", "2")]


def test_login_v3_fetches_the_session_tokens_streaming_needs(
    ig_rest: IgRestStandin, ig_rest_client: MakeClient
) -> None:
    session = ig_rest_client(api_version=3).login()
    assert session.api_version == 3
    assert session.account_id == "ABC123"
    assert session.stream_password.reveal().startswith("CST-cst-token-")
    seen = [(r.method, r.path, r.version, r.query) for r in ig_rest.requests]
    assert seen == [
        ("POST", "/session", "3", {}),
        ("GET", "/session", "1", {"fetchSessionTokens": "true"}),
    ]
    ig_rest_client(api_version=3).market(EPIC)  # the fetched tokens work like v2's


def test_session_and_client_reprs_never_show_secrets(
    ig_rest: IgRestStandin, ig_rest_client: MakeClient
) -> None:
    client = ig_rest_client()
    session = client.login()
    shown = repr(client) + repr(session) + str(session)
    for secret in (ig_rest.password, ig_rest.api_key, session.cst.reveal(), session.security_token.reveal()):
        assert secret not in shown


def test_bad_credentials_raise_a_clear_error_without_the_password(
    ig_rest: IgRestStandin, ig_rest_client: MakeClient
) -> None:
    wrong = "wrong-pa$$word-123"
    with pytest.raises(IgAuthError) as caught:
        ig_rest_client(password=wrong).login()
    message = str(caught.value)
    assert "error.security.invalid-details" in message
    assert "'fxhub-trader'" in message
    assert "IG_USERNAME and IG_PASSWORD" in message
    assert wrong not in message
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None or wrong not in str(caught.value.__context__)


def test_a_wrong_api_key_is_named_masked(ig_rest_client: MakeClient) -> None:
    key = "not-the-right-key-42"
    with pytest.raises(IgAuthError, match=r"API key \*\*\*\*42 \(error.security.api-key-invalid\)") as caught:
        ig_rest_client(api_key=key).login()
    assert key not in str(caught.value)


def test_an_unreachable_gateway_raises_ig_unreachable(ig_closed_port_url: str) -> None:
    with (
        IgRestClient(ig_closed_port_url, Secret("k"), "u", Secret("p")) as client,
        pytest.raises(IgUnreachable, match=r"cannot reach IG at http://127.0.0.1:\d+ for POST /session"),
    ):
        client.login()


def test_tokens_are_refreshed_before_they_expire_when_idle(
    ig_rest: IgRestStandin, ig_rest_client: MakeClient
) -> None:
    clock = FakeClock()
    client = ig_rest_client(clock=clock)
    client.market(EPIC)
    clock.now += TOKEN_IDLE_SECONDS - 60
    client.market(EPIC)
    assert ig_rest.logins == 1
    clock.now += TOKEN_IDLE_SECONDS
    client.market(EPIC)
    assert ig_rest.logins == 2


def test_tokens_are_refreshed_before_their_maximum_age_even_when_used(
    ig_rest: IgRestStandin, ig_rest_client: MakeClient
) -> None:
    clock = FakeClock()
    client = ig_rest_client(clock=clock)
    client.market(EPIC)
    for _ in range(int(TOKEN_MAX_AGE_SECONDS // 3600)):
        clock.now += 3600
        client.market(EPIC)
    assert ig_rest.logins == 2


def test_tokens_refused_by_ig_lead_to_one_new_login_and_the_request_succeeds(
    ig_rest: IgRestStandin, ig_rest_client: MakeClient
) -> None:
    client = ig_rest_client()
    client.market(EPIC)
    ig_rest.expire_tokens()
    assert client.market(EPIC).epic == EPIC
    assert ig_rest.logins == 2
    statuses = [r.path for r in ig_rest.requests]
    assert statuses == ["/session", f"/markets/{EPIC}", f"/markets/{EPIC}", "/session", f"/markets/{EPIC}"]


def test_market_returns_the_checked_price_scale(ig_rest_client: MakeClient) -> None:
    details = ig_rest_client().market(EPIC)
    assert details.scaling_factor == 10000
    assert details.one_pip_means == "0.0001 USD/EUR"
    assert details.market_status == "TRADEABLE"
    assert details.scale.to_price(11520.1) == pytest.approx(1.15201)
    jpy = ig_rest_client().market("CS.D.USDJPY.MINI.IP")
    assert jpy.scale.to_price(15340.1) == pytest.approx(153.401)


def test_a_market_whose_pip_is_not_the_tables_raises_a_price_scale_error(
    ig_rest: IgRestStandin, ig_rest_client: MakeClient
) -> None:
    ig_rest.markets[EPIC].one_pip_means = "1 Index Point"
    with pytest.raises(
        IgPriceScaleError, match=r"onePipMeans for epic 'CS.D.EURUSD.MINI.IP' was '1 Index Point'"
    ):
        ig_rest_client().market(EPIC)


def test_a_market_whose_scale_gives_an_implausible_price_raises_a_price_scale_error(
    ig_rest: IgRestStandin, ig_rest_client: MakeClient
) -> None:
    ig_rest.markets[EPIC].scaling_factor = 1000
    with pytest.raises(
        IgPriceScaleError, match=r"scalingFactor 1000, which gives 11.5204; expected about 1.152"
    ):
        ig_rest_client().market(EPIC)


def test_an_epic_ig_does_not_know_names_the_epic(ig_rest: IgRestStandin, ig_rest_client: MakeClient) -> None:
    del ig_rest.markets[EPIC]
    client = ig_rest_client()
    with pytest.raises(
        IgEpicError, match=r"no market with epic 'CS.D.EURUSD.MINI.IP' \(error.service.marketdata"
    ):
        client.market(EPIC)
    with pytest.raises(IgEpicError, match=r"CS\.D\.EURUSD\.MINI\.IP"):
        client.prices(EPIC, T0, T0 + timedelta(minutes=3))


def test_an_epic_outside_the_instrument_table_is_refused_before_asking_ig(
    ig_rest: IgRestStandin, ig_rest_client: MakeClient
) -> None:
    with pytest.raises(IgEpicError, match=r"'IX.D.FTSE.DAILY.IP' is not in the instrument table"):
        ig_rest_client().market("IX.D.FTSE.DAILY.IP")
    assert ig_rest.requests == []


def test_prices_give_the_minutes_of_a_gap_in_utc_in_order(
    ig_rest: IgRestStandin, ig_rest_client: MakeClient
) -> None:
    for minute in (3, 1, 2, 0, 4):  # stored out of order
        start = T0 + timedelta(minutes=minute)
        bid = (11520.0 + minute, 11523.0 + minute, 11519.0 + minute, 11521.0 + minute)
        ig_rest.add_minute(EPIC, start, bid, tuple(p + 0.6 for p in bid), 30 + minute)  # type: ignore[arg-type]
    prices = ig_rest_client().prices(EPIC, T0 + timedelta(minutes=1), T0 + timedelta(minutes=4))
    assert [p.start for p in prices] == [T0 + timedelta(minutes=m) for m in (1, 2, 3)]
    first = prices[0]
    assert first.bid == (11521.0, 11524.0, 11520.0, 11522.0)
    assert first.ask == pytest.approx((11521.6, 11524.6, 11520.6, 11522.6))
    assert first.last_traded_volume == 31
    assert first.mid_ohlc() == pytest.approx((11521.3, 11524.3, 11520.3, 11522.3))
    request = ig_rest.requests[-1]
    assert (request.path, request.version) == (f"/prices/{EPIC}", "3")
    assert request.query["resolution"] == "MINUTE"
    assert request.query["pageSize"] == "0"
    # The window covers both readings of from/to (UTC and the account's UTC+1).
    assert (request.query["from"], request.query["to"]) == ("2024-01-03T10:01:00", "2024-01-03T11:04:00")


def test_prices_without_volume_or_rows_say_so(ig_rest: IgRestStandin, ig_rest_client: MakeClient) -> None:
    bid = (11520.0, 11521.0, 11519.0, 11520.5)
    ig_rest.add_minute(EPIC, T0, bid, bid, None)
    client = ig_rest_client()
    [price] = client.prices(EPIC, T0, T0 + timedelta(minutes=5))
    assert price.last_traded_volume is None
    assert client.prices(EPIC, T0 + timedelta(hours=5), T0 + timedelta(hours=6)) == []


def test_prices_need_aware_times(ig_rest_client: MakeClient) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        ig_rest_client().prices(EPIC, datetime(2024, 1, 3, 10), datetime(2024, 1, 3, 11))


def test_from_settings_uses_the_ig_settings_and_says_what_is_missing() -> None:
    settings = Settings(
        ig_username="trader", ig_password=Secret("pw"), ig_api_key=Secret("key"), ig_acc_type="LIVE"
    )
    with IgRestClient.from_settings(settings) as client:
        assert client.base_url == "https://api.ig.com/gateway/deal"
        assert client.username == "trader"
    with pytest.raises(ConfigError, match="IG_API_KEY, IG_USERNAME, IG_PASSWORD"):
        IgRestClient.from_settings(Settings())
