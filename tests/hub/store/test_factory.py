"""`open_store`: which URL opens which backend, and errors that name the value without its password."""

from __future__ import annotations

from pathlib import Path

import pytest

import fxhub.hub.store as store_package
from fxhub.errors import ConfigError
from fxhub.hub.store import HotWindowStore, SqliteStore, StoreError, open_store
from fxhub.hub.store import factory as factory_module


def sqlite_path(store: object) -> Path:
    assert isinstance(store, HotWindowStore)
    assert isinstance(store.inner, SqliteStore)
    return store.inner.path


def test_no_url_opens_sqlite_in_the_default_dir(tmp_path: Path) -> None:
    store = open_store(None, default_dir=tmp_path / "data")
    try:
        assert sqlite_path(store) == tmp_path / "data" / "hub.sqlite3"
        assert (tmp_path / "data" / "hub.sqlite3").is_file()
    finally:
        store.close()


def test_no_url_and_no_default_dir_opens_sqlite_in_the_user_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(factory_module.platformdirs, "user_data_dir", lambda app: str(tmp_path / app))
    store = open_store(None)
    try:
        assert sqlite_path(store) == tmp_path / "fxhub" / "hub.sqlite3"
    finally:
        store.close()


def test_a_plain_path_or_a_sqlite_url_opens_sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for url, expected in [
        (str(tmp_path / "a.db"), tmp_path / "a.db"),
        (f"  sqlite://{tmp_path / 'b.db'}  ", tmp_path / "b.db"),
        ("~/c.db", tmp_path / "home" / "c.db"),
    ]:
        store = open_store(url)
        try:
            assert sqlite_path(store) == expected
        finally:
            store.close()


def test_the_hot_window_size_is_passed_on(tmp_path: Path) -> None:
    store = open_store(None, default_dir=tmp_path, hot_window=0)
    try:
        assert isinstance(store, HotWindowStore)
        assert store.window == 0
    finally:
        store.close()


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_a_postgres_url_opens_postgresql_and_masks_its_password(scheme: str) -> None:
    with pytest.raises(StoreError, match="PostgreSQL store") as caught:
        open_store(f"{scheme}://fxhub:topsecret@127.0.0.1:1/hub")
    assert "topsecret" not in str(caught.value)
    assert f"{scheme}://fxhub:****@127.0.0.1:1/hub" in str(caught.value)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("mysql://root:topsecret@db/hub", "mysql://root:****@db/hub"),
        ("sqlite://relative.db", "sqlite://relative.db"),
        ("sqlite:///", "sqlite:///"),
        ("   ", "   "),
    ],
)
def test_any_other_value_is_a_config_error_naming_it_and_the_accepted_forms(url: str, shown: str) -> None:
    with pytest.raises(ConfigError) as caught:
        open_store(url)
    message = str(caught.value)
    assert f"was {shown!r}" in message
    assert "topsecret" not in message
    assert "sqlite:///" in message
    assert "postgresql://" in message


def test_the_package_exports_a_sorted_all_that_resolves() -> None:
    assert store_package.__all__ == sorted(store_package.__all__)
    for name in store_package.__all__:
        assert hasattr(store_package, name), name
