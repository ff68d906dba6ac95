"""Settings: precedence of environment and dotenv files, validation, and secrets that never print."""

from __future__ import annotations

import copy
import dataclasses
import logging
from pathlib import Path

import pytest

from fxhub.errors import ConfigError
from fxhub.settings import SETTING_NAMES, Secret, Settings, load_settings

PASSWORD = "hunter2-very-secret-pw"
API_KEY = "db-ABCDEFGHIJKLMNOPQRSTUV"
TOKEN = "tok-0123456789abcdef"
STORE_PASSWORD = "s3cr3t-Store-pw"


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def full_settings(tmp_path: Path) -> Settings:
    environ = {
        "DATABENTO_API_KEY": API_KEY,
        "IG_USERNAME": "trader",
        "IG_PASSWORD": PASSWORD,
        "IG_API_KEY": "ig-key-ABCDEFGHIJKL",
        "IG_ACC_NUMBER": "Z123",
        "FXHUB_TOKEN": TOKEN,
        "FXHUB_STORE": f"postgresql://fx:{STORE_PASSWORD}@db.local:5432/fxhub",
    }
    return load_settings(environ, tmp_path)


SECRETS = (PASSWORD, API_KEY, TOKEN, STORE_PASSWORD, "ig-key-ABCDEFGHIJKL")


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text
        assert secret[:-2] not in text  # not even most of it


def test_environment_beats_env_file_beats_env_scalper(tmp_path: Path) -> None:
    write(tmp_path, ".env", "IG_USERNAME=from-env-file\nIG_ACC_NUMBER=ACC-ENV\n")
    write(
        tmp_path,
        ".env.scalper",
        "IG_USERNAME=from-scalper\nIG_ACC_NUMBER=ACC-SCALPER\nFXHUB_TOKEN=scalper-token\n",
    )

    settings = load_settings({"IG_USERNAME": "from-environment"}, tmp_path)

    assert settings.ig_username == "from-environment"
    assert settings.ig_acc_number == "ACC-ENV"
    assert settings.fxhub_token == Secret("scalper-token")
    assert settings.source_files == (str(tmp_path / ".env"), str(tmp_path / ".env.scalper"))


def test_env_scalper_alone_is_read_and_unknown_keys_are_ignored(tmp_path: Path) -> None:
    write(
        tmp_path,
        ".env.scalper",
        'OTHER_APP_KEY=whatever\nIG_USERNAME=scalper-user\nIG_PASSWORD="pa$$ ${word}"\nIG_ACC_TYPE=live\n',
    )

    settings = load_settings({}, tmp_path)

    assert settings.ig_username == "scalper-user"
    assert settings.ig_password is not None
    assert settings.ig_password.reveal() == "pa$$ ${word}"  # taken literally, no interpolation
    assert settings.ig_acc_type == "LIVE"
    assert settings.ig_base_url == "https://api.ig.com/gateway/deal"
    assert settings.source_files == (str(tmp_path / ".env.scalper"),)
    assert not hasattr(settings, "other_app_key")


def test_empty_value_counts_as_unset_and_falls_through(tmp_path: Path) -> None:
    write(tmp_path, ".env", "IG_USERNAME=\nIG_ACC_TYPE=\nFXHUB_URL=\n")
    write(tmp_path, ".env.scalper", "IG_USERNAME=scalper-user\n")

    settings = load_settings({"IG_USERNAME": "", "IG_PASSWORD": "   ", "FXHUB_TOKEN": ""}, tmp_path)

    assert settings.ig_username == "scalper-user"
    assert settings.ig_password is None
    assert settings.fxhub_token is None
    assert settings.ig_acc_type == "DEMO"
    assert settings.fxhub_url == "http://127.0.0.1:50000"


def test_defaults_when_nothing_is_set(tmp_path: Path) -> None:
    settings = load_settings({}, tmp_path)

    assert settings.ig_acc_type == "DEMO"
    assert settings.ig_base_url == "https://demo-api.ig.com/gateway/deal"
    assert settings.fxhub_url == "http://127.0.0.1:50000"
    assert settings.source_files == ()
    assert settings.config_dir == str(tmp_path)
    unset = {name: "(not set)" for name in SETTING_NAMES}
    assert settings.masked() == unset | {"IG_ACC_TYPE": "DEMO", "FXHUB_URL": "http://127.0.0.1:50000"}


def test_secrets_are_masked_in_repr_str_format_and_masked(tmp_path: Path) -> None:
    settings = full_settings(tmp_path)
    assert settings.ig_password is not None

    for text in (
        repr(settings),
        str(settings),
        f"{settings}",
        "%s %r" % (settings, settings),  # noqa: UP031 - %-formatting is the point
        str(settings.masked()),
        f"{settings.ig_password} {settings.ig_password!r} {settings.ig_password:>40}",
        str({k: v for k, v in dataclasses.asdict(settings).items() if k != "fxhub_store"}),
    ):
        assert_no_secret(text)
    masked = settings.masked()
    assert masked["IG_PASSWORD"] == "****" + PASSWORD[-2:]
    assert masked["IG_USERNAME"] == "trader"
    assert masked["FXHUB_URL"] == "http://127.0.0.1:50000"
    with pytest.raises(TypeError):
        vars(settings.ig_password)
    with pytest.raises(TypeError):
        vars(settings)


def test_secrets_are_masked_in_log_records_formatted_with_percent_s_and_r(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = full_settings(tmp_path)
    logger = logging.getLogger("fxhub.test_settings")

    with caplog.at_level(logging.INFO, logger=logger.name):
        logger.info("settings %s", settings)
        logger.info("settings %r", settings)
        logger.info("password %s token %r", settings.ig_password, settings.fxhub_token)
        logger.info("effective config %s", settings.masked())

    assert len(caplog.records) == 4
    assert_no_secret(caplog.text)
    assert "postgresql://fx:****@db.local:5432/fxhub" in caplog.text


def test_postgresql_url_password_is_masked(tmp_path: Path) -> None:
    settings = full_settings(tmp_path)

    assert settings.masked()["FXHUB_STORE"] == "postgresql://fx:****@db.local:5432/fxhub"
    assert "fxhub_store='postgresql://fx:****@db.local:5432/fxhub'" in repr(settings)
    assert settings.fxhub_store == f"postgresql://fx:{STORE_PASSWORD}@db.local:5432/fxhub"


@pytest.mark.parametrize(
    ("store", "shown"),
    [
        ("/var/lib/fxhub/store", "/var/lib/fxhub/store"),
        ("postgresql://fx@db/fxhub", "postgresql://fx@db/fxhub"),
        ("postgresql://fx:p@ss#w/rd@db/fxhub", "postgresql://fx:****@db/fxhub"),
        ("host=db user=fx password=pw123 dbname=fxhub", "host=db user=fx password=**** dbname=fxhub"),
        ("postgresql://db/fxhub?user=fx&password=pw123", "postgresql://db/fxhub?user=fx&password=****"),
    ],
)
def test_store_masking_hides_passwords_in_every_dsn_form(store: str, shown: str) -> None:
    assert Settings(fxhub_store=store).masked()["FXHUB_STORE"] == shown


def test_secret_mask_shows_last_two_chars_only_for_long_values() -> None:
    assert str(Secret("short")) == "****"
    assert str(Secret("elevenchars")) == "****"
    assert str(Secret("twelve-chars")) == "****rs"
    assert repr(Secret("twelve-chars")) == "Secret('****rs')"
    assert Secret("twelve-chars").reveal() == "twelve-chars"


def test_secret_equality_compares_values_and_never_equals_plain_str() -> None:
    assert Secret("abc") == Secret("abc")
    assert Secret("abc") != Secret("abd")
    assert Secret("abc") != Secret("abcd")
    assert Secret("abc") != "abc"
    assert hash(Secret("abc")) == hash(Secret("abc"))
    assert copy.deepcopy(Secret("abc")) == Secret("abc")
    with pytest.raises(AttributeError):
        Secret("abc")._value = "other"


def test_bad_ig_acc_type_error_names_variable_value_file_and_allowed_values(tmp_path: Path) -> None:
    env_file = write(tmp_path, ".env.scalper", "IG_ACC_TYPE=paper\n")

    with pytest.raises(ConfigError) as caught:
        load_settings({}, tmp_path)

    message = str(caught.value)
    assert "IG_ACC_TYPE" in message
    assert "'paper'" in message
    assert str(env_file) in message
    assert "DEMO" in message
    assert "LIVE" in message


def test_bad_ig_acc_type_from_environment_says_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"IG_ACC_TYPE.*'real'.*the environment"):
        load_settings({"IG_ACC_TYPE": "real"}, tmp_path)


def test_require_lists_every_missing_name_and_where_to_set_them(tmp_path: Path) -> None:
    settings = load_settings({"IG_USERNAME": "trader"}, tmp_path)

    with pytest.raises(ConfigError) as caught:
        settings.require("IG_USERNAME", "IG_PASSWORD", "IG_API_KEY", "FXHUB_TOKEN")

    message = str(caught.value)
    assert "IG_PASSWORD, IG_API_KEY, FXHUB_TOKEN" in message
    assert "IG_USERNAME" not in message
    assert "environment" in message
    assert ".env / .env.scalper" in message
    assert str(tmp_path) in message


def test_require_passes_when_all_names_are_set(tmp_path: Path) -> None:
    full_settings(tmp_path).require("IG_USERNAME", "IG_PASSWORD", "IG_API_KEY", "FXHUB_STORE")


def test_require_rejects_unknown_names_as_programming_errors() -> None:
    with pytest.raises(ValueError, match="IG_PASWORD"):
        Settings().require("IG_PASWORD")


@pytest.mark.parametrize(
    "url",
    [
        "127.0.0.1:50000",
        "ftp://host:21",
        "http://",
        "http://host:notaport",
        "http://host:99999",
        "http://host/path",
        "http://host?q=1",
        "http://user@host",
    ],
)
def test_bad_fxhub_url_is_a_config_error_naming_the_variable(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigError, match="FXHUB_URL") as caught:
        load_settings({"FXHUB_URL": url}, tmp_path)
    assert "the environment" in str(caught.value)


def test_bad_fxhub_url_error_does_not_print_a_password(tmp_path: Path) -> None:
    write(tmp_path, ".env", "FXHUB_URL=http://me:topsecretpw@host:1\n")

    with pytest.raises(ConfigError) as caught:
        load_settings({}, tmp_path)

    assert "topsecretpw" not in str(caught.value)
    assert str(tmp_path / ".env") in str(caught.value)


@pytest.mark.parametrize(
    ("url", "stored"),
    [
        ("https://hub.example.com", "https://hub.example.com"),
        ("http://10.0.0.5:8080/", "http://10.0.0.5:8080"),
        ("http://[::1]:50000", "http://[::1]:50000"),
    ],
)
def test_good_fxhub_url_is_kept_without_trailing_slash(tmp_path: Path, url: str, stored: str) -> None:
    assert load_settings({"FXHUB_URL": url}, tmp_path).fxhub_url == stored


def test_settings_are_frozen_and_keyword_only() -> None:
    settings = Settings()
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.ig_username = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        Settings(None)  # type: ignore[call-arg]


def test_settings_built_by_hand_are_validated_and_normalised() -> None:
    settings = Settings(ig_acc_type="live", fxhub_url="https://hub.example.com/")  # type: ignore[arg-type]
    assert settings.ig_acc_type == "LIVE"
    assert settings.ig_base_url == "https://api.ig.com/gateway/deal"
    assert settings.fxhub_url == "https://hub.example.com"
    with pytest.raises(ConfigError, match="IG_ACC_TYPE"):
        Settings(ig_acc_type="PAPER")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="FXHUB_URL"):
        Settings(fxhub_url="localhost:50000")
