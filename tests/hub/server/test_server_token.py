"""The token file: generated once, private, reused across restarts, found by local clients."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from fxhub.errors import ConfigError
from fxhub.hub.server.token import ensure_token, read_token_file, token_file_path
from fxhub.settings import Secret


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_path_comes_from_fxhub_token_file_when_set(tmp_path: Path) -> None:
    assert token_file_path({"FXHUB_TOKEN_FILE": str(tmp_path / "t")}) == tmp_path / "t"


def test_path_defaults_to_the_user_config_dir() -> None:
    path = token_file_path({})
    assert path.name == "hub.token"
    assert path.parent.name == "fxhub"


def test_blank_override_falls_back_to_the_default() -> None:
    assert token_file_path({"FXHUB_TOKEN_FILE": "  "}) == token_file_path({})


def test_configured_token_wins_and_nothing_is_written(tmp_path: Path) -> None:
    path = tmp_path / "cfg" / "hub.token"
    assert ensure_token(Secret("from-env"), path) == Secret("from-env")
    assert not path.parent.exists()


def test_new_token_is_random_urlsafe_and_written_private(tmp_path: Path) -> None:
    path = tmp_path / "cfg" / "fxhub" / "hub.token"
    token = ensure_token(None, path)
    assert len(token.reveal()) >= 43  # 32 random bytes, base64url
    assert path.read_text().strip() == token.reveal()
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700
    assert [p.name for p in path.parent.iterdir()] == ["hub.token"]  # no temporary file left


def test_existing_token_file_is_reused(tmp_path: Path) -> None:
    path = tmp_path / "hub.token"
    first = ensure_token(None, path)
    assert ensure_token(None, path) == first
    assert read_token_file(path) == first


def test_existing_folder_keeps_its_mode(tmp_path: Path) -> None:
    os.chmod(tmp_path, 0o755)
    ensure_token(None, tmp_path / "hub.token")
    assert mode(tmp_path) == 0o755


def test_token_file_readable_by_others_is_made_private(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "hub.token"
    path.write_text("abc\n")
    os.chmod(path, 0o644)
    assert ensure_token(None, path) == Secret("abc")
    assert mode(path) == 0o600
    assert "readable by others" in caplog.text


def test_blank_token_file_is_replaced_by_a_new_token(tmp_path: Path) -> None:
    path = tmp_path / "hub.token"
    path.write_text("\n")
    token = ensure_token(None, path)
    assert token.reveal()
    assert path.read_text().strip() == token.reveal()


def test_read_token_file_is_none_when_missing_or_blank(tmp_path: Path) -> None:
    assert read_token_file(tmp_path / "missing") is None
    (tmp_path / "blank").write_text("  \n")
    assert read_token_file(tmp_path / "blank") is None


def test_unreadable_token_file_is_a_config_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "dir-not-file"
    path.mkdir()
    with pytest.raises(ConfigError, match="dir-not-file"):
        read_token_file(path)


def test_hubs_starting_at_once_agree_on_one_token(tmp_path: Path) -> None:
    path = tmp_path / "cfg" / "hub.token"
    tokens: list[Secret] = []
    barrier = threading.Barrier(8)

    def start() -> None:
        barrier.wait()
        tokens.append(ensure_token(None, path))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(tokens) == 8
    assert len({token.reveal() for token in tokens}) == 1
    assert read_token_file(path) == tokens[0]
