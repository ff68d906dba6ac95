"""HubConfig: frozen, keyword-only, checked, and never shows its token."""

from __future__ import annotations

import dataclasses

import pytest

from fxhub.errors import ConfigError
from fxhub.hub.server.config import HubConfig, is_loopback
from fxhub.settings import Secret


def test_defaults_match_the_documented_api() -> None:
    config = HubConfig()
    assert (config.host, config.port) == ("127.0.0.1", 50000)
    assert config.max_body_bytes == 8 * 1024 * 1024
    assert config.max_candles_per_push == 10_000
    assert config.stream_queue_size == 1000
    assert config.allow_anonymous_reads is False
    assert config.token is None


def test_is_frozen_and_keyword_only() -> None:
    config = HubConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.port = 1  # type: ignore[misc]
    with pytest.raises(TypeError):
        HubConfig("0.0.0.0")  # type: ignore[misc]
    with pytest.raises(TypeError):
        HubConfig(prot=1)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("port", 70000),
        ("port", -1),
        ("max_body_bytes", 0),
        ("stream_queue_size", True),
        ("max_candles_per_push", 1.5),
    ],
)
def test_out_of_range_values_are_config_errors_naming_the_field(field: str, value: object) -> None:
    with pytest.raises(ConfigError, match=field):
        HubConfig(**{field: value})  # type: ignore[arg-type]


def test_plain_string_token_is_refused() -> None:
    with pytest.raises(ConfigError, match="Secret"):
        HubConfig(token="abc")  # type: ignore[arg-type]


def test_repr_and_masked_never_show_the_token_or_a_store_password() -> None:
    config = HubConfig(token=Secret("super-secret-token-value"), store_url="postgresql://fx:hunter2@db/fx")
    for text in (repr(config), str(config.masked())):
        assert "super-secret-token-value" not in text
        assert "hunter2" not in text
    assert config.masked()["token"] == "****ue"
    assert config.masked()["store_url"] == "postgresql://fx:****@db/fx"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("192.168.1.5", False),
        ("hub.example", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
    assert HubConfig(host=host).is_loopback is loopback
