"""`connect_to_data_hub`: where the URL and the token come from, and that the token never shows."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from client_support import RunningHub, ig_candle

from fxhub.hub.client import AsyncHubClient, HubUnauthorized, connect_to_data_hub
from fxhub.hub.client.connect import connect_to_data_hub_async


def test_explicit_url_and_token_win(hub: RunningHub, tmp_path: Path) -> None:
    environ = {"FXHUB_URL": "http://127.0.0.1:1", "FXHUB_TOKEN": "not-this-one"}
    with connect_to_data_hub(hub.url, hub.token, environ=environ, cwd=tmp_path) as client:
        assert client.url == hub.url
        assert client.push_candles([ig_candle(0)]).inserted == 1


def test_url_and_token_from_the_environment(hub: RunningHub, tmp_path: Path) -> None:
    environ = {"FXHUB_URL": hub.url, "FXHUB_TOKEN": hub.token}
    with connect_to_data_hub(environ=environ, cwd=tmp_path) as client:
        assert client.push_candles([ig_candle(0)]).inserted == 1


def test_url_from_dotenv_file_in_the_working_directory(hub: RunningHub, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"FXHUB_URL={hub.url}\nFXHUB_TOKEN={hub.token}\n")
    with connect_to_data_hub(environ={}, cwd=tmp_path) as client:
        assert client.url == hub.url
        assert client.get_latest_candles("EUR_USD") == []


def test_token_from_the_token_file_the_hub_wrote(hub: RunningHub, tmp_path: Path) -> None:
    environ = {"FXHUB_TOKEN_FILE": str(hub.token_file)}
    with connect_to_data_hub(hub.url, environ=environ, cwd=tmp_path) as client:
        assert client.push_candles([ig_candle(0)]).inserted == 1


def test_without_any_token_the_error_names_the_token_file_to_look_for(
    hub: RunningHub, tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere" / "hub.token"
    environ = {"FXHUB_TOKEN_FILE": str(missing)}
    with (
        connect_to_data_hub(hub.url, environ=environ, cwd=tmp_path) as client,
        pytest.raises(HubUnauthorized) as caught,
    ):
        client.push_candles([ig_candle(0)])
    assert "FXHUB_TOKEN is not set" in str(caught.value)
    assert str(missing) in str(caught.value)


def test_default_url_is_the_local_hub(tmp_path: Path) -> None:
    with connect_to_data_hub(token="t", environ={}, cwd=tmp_path) as client:
        assert client.url == "http://127.0.0.1:50000"


def test_token_never_appears_in_reprs_or_logs(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    secret = "super-secret-token-value"
    with caplog.at_level(logging.DEBUG):
        client = connect_to_data_hub(environ={"FXHUB_TOKEN": secret}, cwd=tmp_path)
    with client:
        assert secret not in f"{client!r} {client}"
    assert "hub client" in caplog.text
    assert secret not in caplog.text


@pytest.mark.anyio
async def test_async_twin_resolves_the_same_way(hub: RunningHub, tmp_path: Path) -> None:
    client = connect_to_data_hub_async(environ={"FXHUB_URL": hub.url, "FXHUB_TOKEN": hub.token}, cwd=tmp_path)
    assert isinstance(client, AsyncHubClient)
    async with client:
        assert (await client.push_candles([ig_candle(0)])).inserted == 1
