"""What an operator check reports: findings with a severity, what was seen and what to do."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = ["Finding", "Severity", "healthy", "worst"]


class Severity(StrEnum):
    """How bad a finding is; only `error` makes a check fail (non-zero exit)."""

    OK = "ok"
    WARN = "warn"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Severity.OK: 0, Severity.WARN: 1, Severity.ERROR: 2}


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One thing a check found: `title` in a line, `detail` what was seen, `action` what to do about it."""

    severity: Severity
    title: str
    detail: str = ""
    action: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity.value,
            "title": self.title,
            "detail": self.detail,
            "action": self.action,
        }


def worst(findings: Iterable[Finding]) -> Severity:
    """The most severe of `findings`; `ok` for none."""
    return max((finding.severity for finding in findings), key=lambda s: s.rank, default=Severity.OK)


def healthy(findings: Iterable[Finding]) -> bool:
    """True unless a finding is an error: warnings explain, they do not fail a check."""
    return worst(findings) is not Severity.ERROR
