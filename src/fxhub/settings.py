"""Settings from the environment, `.env` and `.env.scalper`, with secrets that never print.

Precedence per variable: the real environment, then `.env`, then `.env.scalper` (the existing
deployment's file), both in the working directory. The files are parsed, never loaded into `os.environ`,
and their values are taken literally (no `${VAR}` interpolation, so a `$` in a password survives).
Empty or blank values count as unset; keys fxhub does not know are ignored, because those files also
hold other applications' keys.
"""

from __future__ import annotations

import hmac
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal, final
from urllib.parse import urlsplit

from dotenv import dotenv_values

from fxhub.errors import ConfigError

__all__ = ["ENV_FILES", "SETTING_NAMES", "Secret", "Settings", "load_settings", "mask_store_url"]

ENV_FILES: Final = (".env", ".env.scalper")
"""Files read from the working directory, highest precedence first."""

SETTING_NAMES: Final = (
    "DATABENTO_API_KEY",
    "IG_USERNAME",
    "IG_PASSWORD",
    "IG_API_KEY",
    "IG_ACC_TYPE",
    "IG_ACC_NUMBER",
    "FXHUB_URL",
    "FXHUB_TOKEN",
    "FXHUB_STORE",
)
"""Every environment variable fxhub reads; each `Settings` field is the name in lower case."""

_IG_BASE_URLS: Final = {
    "DEMO": "https://demo-api.ig.com/gateway/deal",
    "LIVE": "https://api.ig.com/gateway/deal",
}
_DEFAULT_URL: Final = "http://127.0.0.1:50000"
_MASK: Final = "****"
_HINT_MIN_CHARS: Final = 12
_PASSWORD_PARAM: Final = re.compile(r"(?i)(password\s*=\s*)[^\s&;]+")


@final
class Secret:
    """A secret string that shows only a mask when printed, formatted, logged or inspected.

    The mask is `'****'`; for values of 12 or more characters it ends with their last 2 characters, so
    that a user can tell which key is configured without the mask revealing anything useful. Call
    `reveal()` where the value itself is needed (an HTTP header, a login body). Equality with another
    `Secret` runs in constant time; a `Secret` never equals a plain `str`.
    """

    __slots__ = ("_value",)
    _value: str

    def __init__(self, value: str) -> None:
        object.__setattr__(self, "_value", value)

    def reveal(self) -> str:
        """The secret itself; call it only at the point of use."""
        return self._value

    def masked(self) -> str:
        """`'****'`, or `'****'` plus the last 2 characters for values of 12 characters or more."""
        if len(self._value) >= _HINT_MIN_CHARS:
            return _MASK + self._value[-2:]
        return _MASK

    def __repr__(self) -> str:
        return f"Secret({self.masked()!r})"

    def __str__(self) -> str:
        return self.masked()

    def __format__(self, format_spec: str) -> str:
        return format(self.masked(), format_spec)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __reduce__(self) -> tuple[type[Secret], tuple[str]]:
        return (Secret, (self._value,))  # copy/deepcopy (and dataclasses.asdict) despite immutability

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Secret is immutable, cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Secret is immutable, cannot delete {name!r}")


def mask_store_url(value: str) -> str:
    """Mask the password of a database URL (`user:****@host`) and any `password=` parameter."""
    scheme, sep, rest = value.partition("://")
    if sep and "@" in rest:
        userinfo, _, location = rest.rpartition("@")
        if ":" in userinfo:
            value = f"{scheme}://{userinfo.split(':', 1)[0]}:{_MASK}@{location}"
    return _PASSWORD_PARAM.sub(rf"\g<1>{_MASK}", value)


def _check_url(value: str, origin: str) -> str:
    """Return `value` without a trailing slash if it is `http(s)://host[:port]`, else raise."""
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises ValueError for a port that is not a number in 0..65535
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.username is not None
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
    ):
        raise ConfigError(
            f"FXHUB_URL must be http(s)://host[:port] such as {_DEFAULT_URL}, was {mask_store_url(value)!r} "
            f"(from {origin}); fix it there or unset it to use the default"
        )
    return value.rstrip("/")


def _check_acc_type(value: str, origin: str) -> Literal["DEMO", "LIVE"]:
    upper = value.strip().upper()
    if upper == "DEMO":
        return "DEMO"
    if upper == "LIVE":
        return "LIVE"
    raise ConfigError(
        f"IG_ACC_TYPE must be one of {', '.join(_IG_BASE_URLS)} (any case), was {value!r} "
        f"(from {origin}); set IG_ACC_TYPE=DEMO or IG_ACC_TYPE=LIVE there"
    )


@dataclass(frozen=True, kw_only=True, slots=True, repr=False)
class Settings:
    """Every fxhub setting; build it with `load_settings()`, which says where each value came from.

    Fields are the environment-variable names in lower case. `repr()` and `str()` show secrets and the
    password in `fxhub_store` masked. `config_dir` is the directory whose `.env` files were looked for,
    used to tell the user where to set a missing variable.
    """

    databento_api_key: Secret | None = None
    ig_username: str | None = None
    ig_password: Secret | None = None
    ig_api_key: Secret | None = None
    ig_acc_type: Literal["DEMO", "LIVE"] = "DEMO"
    ig_acc_number: str | None = None
    fxhub_url: str = _DEFAULT_URL
    fxhub_token: Secret | None = None
    fxhub_store: str | None = None
    source_files: tuple[str, ...] = ()
    config_dir: str | None = None

    def __post_init__(self) -> None:
        # Normalise here too, so that Settings built by hand obey the same rules as load_settings().
        object.__setattr__(
            self, "ig_acc_type", _check_acc_type(self.ig_acc_type, "Settings(ig_acc_type=...)")
        )
        object.__setattr__(self, "fxhub_url", _check_url(self.fxhub_url, "Settings(fxhub_url=...)"))

    @property
    def ig_base_url(self) -> str:
        """IG's REST gateway for the account type: the demo or the live API."""
        return _IG_BASE_URLS[self.ig_acc_type]

    def require(self, *names: str) -> None:
        """Raise `ConfigError` naming every variable in `names` that is not set, all at once."""
        unknown = [name for name in names if name not in SETTING_NAMES]
        if unknown:
            raise ValueError(f"unknown setting names {unknown}, expected any of {', '.join(SETTING_NAMES)}")
        missing = [name for name in names if getattr(self, name.lower()) is None]
        if missing:
            where = self.config_dir if self.config_dir is not None else "the working directory"
            raise ConfigError(
                f"missing setting{'s' if len(missing) > 1 else ''} {', '.join(missing)}: "
                f"set {'them' if len(missing) > 1 else 'it'} in the environment or in "
                f"{' / '.join(ENV_FILES)} in {where}"
            )

    def masked(self) -> dict[str, str]:
        """Every setting by its environment-variable name, secrets masked, unset ones as '(not set)'."""
        values = {name: getattr(self, name.lower()) for name in SETTING_NAMES}
        shown = {name: "(not set)" if value is None else str(value) for name, value in values.items()}
        if self.fxhub_store is not None:
            shown["FXHUB_STORE"] = mask_store_url(self.fxhub_store)
        return shown

    def __repr__(self) -> str:
        store = None if self.fxhub_store is None else mask_store_url(self.fxhub_store)
        shown = {name.lower(): getattr(self, name.lower()) for name in SETTING_NAMES}
        shown |= {"fxhub_store": store, "source_files": self.source_files, "config_dir": self.config_dir}
        return f"Settings({', '.join(f'{key}={value!r}' for key, value in shown.items())})"


def _read_env_file(path: Path) -> dict[str, str]:
    """The known, non-blank keys of one dotenv file, stripped; other keys are other apps' business."""
    values = dotenv_values(path, interpolate=False)
    return {
        name: value.strip()
        for name, value in values.items()
        if name in SETTING_NAMES and value is not None and value.strip()
    }


def load_settings(environ: Mapping[str, str] | None = None, cwd: Path | None = None) -> Settings:
    """Read settings from `environ` (default `os.environ`), then `.env`, then `.env.scalper` in `cwd`.

    Raise `ConfigError` naming the variable, the value, its origin and the allowed values when
    IG_ACC_TYPE or FXHUB_URL is malformed. Missing secrets are not an error here; each command asks
    for what it needs with `Settings.require()`.
    """
    env = os.environ if environ is None else environ
    directory = Path.cwd() if cwd is None else cwd
    sources: list[tuple[str, Mapping[str, str]]] = [
        ("the environment", {name: env[name].strip() for name in SETTING_NAMES if env.get(name, "").strip()})
    ]
    read: list[str] = []
    for file_name in ENV_FILES:
        path = directory / file_name
        if path.is_file():
            read.append(str(path))
            sources.append((str(path), _read_env_file(path)))

    found: dict[str, tuple[str, str]] = {}  # name -> (value, origin); the first source wins
    for origin, values in sources:
        for name, value in values.items():
            found.setdefault(name, (value, origin))

    def text(name: str) -> str | None:
        return found[name][0] if name in found else None

    def secret(name: str) -> Secret | None:
        return Secret(found[name][0]) if name in found else None

    acc_type: Literal["DEMO", "LIVE"] = "DEMO"
    if "IG_ACC_TYPE" in found:
        acc_type = _check_acc_type(*found["IG_ACC_TYPE"])
    url = _check_url(*found["FXHUB_URL"]) if "FXHUB_URL" in found else _DEFAULT_URL
    return Settings(
        databento_api_key=secret("DATABENTO_API_KEY"),
        ig_username=text("IG_USERNAME"),
        ig_password=secret("IG_PASSWORD"),
        ig_api_key=secret("IG_API_KEY"),
        ig_acc_type=acc_type,
        ig_acc_number=text("IG_ACC_NUMBER"),
        fxhub_url=url,
        fxhub_token=secret("FXHUB_TOKEN"),
        fxhub_store=text("FXHUB_STORE"),
        source_files=tuple(read),
        config_dir=str(directory),
    )
