"""One error root for fxhub.

Every message says what was expected, what came (", was ...") and what to do, so that a user reading a
log line can act on it without opening the source.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ConfigError",
    "DataFormatError",
    "FxhubError",
    "ValidationError",
]


class FxhubError(Exception):
    """Root of every error fxhub raises on purpose."""


class ConfigError(FxhubError):
    """A setting is missing or malformed (environment, `.env`, command-line option)."""


class ValidationError(FxhubError, ValueError):
    """A value broke a rule of the domain model; names the field, the value and the rule."""

    def __init__(self, field: str, value: Any, rule: str, *, where: str = "") -> None:
        self.field = field
        self.value = value
        self.rule = rule
        self.where = where
        prefix = f"{where}: " if where else ""
        super().__init__(f"{prefix}`{field}` {rule}, was {value!r}")


class DataFormatError(FxhubError, ValueError):
    """A file or message is not in the format it should be; says which file or line and why."""
