"""The hub's token file: where `fxhub serve` keeps its generated token so local clients can find it.

The file holds one line, the token. It is created with mode 0600 in a directory created with mode 0700,
written to a temporary file first and linked into place, so a reader never sees half a token and two
hubs starting at once agree on one token.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Final

import platformdirs

from fxhub.errors import ConfigError
from fxhub.settings import Secret

__all__ = ["TOKEN_FILE_ENV", "ensure_token", "read_token_file", "token_file_path"]

logger = logging.getLogger(__name__)

TOKEN_FILE_ENV: Final = "FXHUB_TOKEN_FILE"  # noqa: S105  # a variable name, not a secret
_TOKEN_BYTES: Final = 32


def token_file_path(environ: Mapping[str, str]) -> Path:
    """`FXHUB_TOKEN_FILE` from `environ` when set, else `<user config dir>/fxhub/hub.token`."""
    override = environ.get(TOKEN_FILE_ENV, "").strip()
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_config_dir("fxhub")) / "hub.token"


def read_token_file(path: Path) -> Secret | None:
    """The token in `path`, or None when the file is missing or blank (what a client tries last)."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(
            f"cannot read the hub token file {path}: {exc.strerror or exc}; fix its permissions, "
            f"or set FXHUB_TOKEN (or {TOKEN_FILE_ENV} to another file)"
        ) from exc
    return Secret(text) if text else None


def ensure_token(config_token: Secret | None, path: Path) -> Secret:
    """The token the hub runs with: `config_token` when given, else the token file's, else a new one.

    A new token (`secrets.token_urlsafe(32)`) is written to `path` so that restarting the hub does not
    lock out its clients. A configured token is returned as is and not written anywhere.
    """
    if config_token is not None:
        return config_token
    existing = read_token_file(path)
    if existing is not None:
        _tighten_mode(path)
        return existing
    _make_private_dir(path.parent)
    token = secrets.token_urlsafe(_TOKEN_BYTES)
    won = _write_new(path, token)
    if won:
        logger.info("wrote a new hub token to %s (mode 0600)", path)
        return Secret(token)
    # Another process wrote the file between our read and our write: use its token.
    raced = read_token_file(path)
    if raced is None:
        raise ConfigError(f"the hub token file {path} is empty; delete it and start the hub again")
    return raced


def _write_new(path: Path, token: str) -> bool:
    """Write `token` to `path` atomically; False when a non-blank file is already there."""
    fd, tmp_name = tempfile.mkstemp(prefix=".hub.token.", dir=path.parent)  # mkstemp creates it 0600
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(token + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, path)  # fails if the file exists: never overwrite another hub's token
        except FileExistsError:
            if read_token_file(path) is not None:
                return False
            os.replace(tmp, path)  # a blank leftover file: take its place
        return True
    except OSError as exc:
        raise ConfigError(
            f"cannot write the hub token file {path}: {exc.strerror or exc}; make its folder writable, "
            f"or set FXHUB_TOKEN (or {TOKEN_FILE_ENV} to another file)"
        ) from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _make_private_dir(directory: Path) -> None:
    """Create `directory` (mode 0700) if missing; an existing one is left as it is."""
    if directory.is_dir():
        return
    try:
        directory.mkdir(parents=True, mode=0o700)
        os.chmod(directory, 0o700)  # mkdir's mode is filtered by the umask
    except FileExistsError:
        pass
    except OSError as exc:
        raise ConfigError(
            f"cannot create the folder {directory} for the hub token file: {exc.strerror or exc}; "
            f"set FXHUB_TOKEN, or {TOKEN_FILE_ENV} to a file in a writable folder"
        ) from exc


def _tighten_mode(path: Path) -> None:
    """Make a token file that others can read private again, and say so."""
    with contextlib.suppress(OSError):
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            os.chmod(path, 0o600)
            logger.warning(
                "the hub token file %s was readable by others (mode %o); set it to 0600", path, mode
            )
