"""Logging for the `fxhub` command: one place sets the level, the stderr lines and the JSON-lines file.

- `--log-level` DEBUG, INFO, WARNING or ERROR (any case). The root option (`fxhub --log-level X cmd`)
  applies to every command; a long-running command's own option (`fxhub serve --log-level X`) wins over
  it. Unset, short commands log at WARNING and long-running ones (`serve`, `collect ... --live`) at INFO.
- stderr always gets one human-readable line per record (journald keeps it under systemd).
- `--log-file PATH` *also* appends one JSON object per line: `ts` (UTC, ISO 8601, milliseconds),
  `level`, `logger`, `msg`, the `extra={...}` fields of the call, and `exc` with the traceback if any.
  The file is reopened when logrotate moves it (`WatchedFileHandler`).

Secrets: `Secret` values print masked wherever they are formatted, and every handler also masks a
`token=...` query parameter (uvicorn logs WebSocket URLs with theirs).
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Final, TextIO

import typer

from fxhub.errors import ConfigError
from fxhub.hub.server.runner import TokenRedactingFilter

__all__ = [
    "LEVELS",
    "JsonLinesFormatter",
    "LogFileOption",
    "LogLevelOption",
    "command_logging",
    "configure_logging",
    "parse_level",
    "root_logging",
]

LEVELS: Final = ("DEBUG", "INFO", "WARNING", "ERROR")
TEXT_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_META_KEY: Final = "fxhub.logging"  # the root options, in the click context's shared `meta`
_MARK: Final = "_fxhub_cli_handler"  # set on the handlers `configure_logging` installs
# Record attributes that are not `extra=` fields: what every LogRecord has, and uvicorn's coloured copy.
_STANDARD: Final = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "taskName",
    "color_message",  # uvicorn's copy of the message with terminal colours
}

LogLevelOption = Annotated[
    str | None,
    typer.Option(
        "--log-level",
        help="DEBUG, INFO, WARNING or ERROR (default: the root --log-level, else INFO for long-running "
        "commands, WARNING for the rest).",
        show_default=False,
    ),
]
LogFileOption = Annotated[
    Path | None,
    typer.Option(
        "--log-file",
        help="Also append JSON lines (ts, level, logger, msg, extra fields) to this file.",
        dir_okay=False,
        show_default=False,
    ),
]


class JsonLinesFormatter(logging.Formatter):
    """One JSON object per record: ts, level, logger, msg, the record's extra fields, exc."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")[:-6] + "Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_") and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)  # str() of a Secret is masked


def parse_level(value: str, option: str = "--log-level") -> int:
    """The logging level `value` names (any case); a `ConfigError` naming the choices otherwise."""
    name = value.strip().upper()
    if name not in LEVELS:
        raise ConfigError(f"{option} must be one of {', '.join(LEVELS)}, was {value!r}.")
    level: int = logging.getLevelName(name)
    return level


def configure_logging(level: str, log_file: Path | None = None, *, stream: TextIO | None = None) -> None:
    """Set the root logger to `level` with a text handler on stderr and, with `log_file`, a JSON-lines one.

    Calling it again replaces the handlers an earlier call installed (and only those).
    """
    number = parse_level(level)
    handlers: list[logging.Handler] = [logging.StreamHandler(stream if stream is not None else sys.stderr)]
    handlers[0].setFormatter(logging.Formatter(TEXT_FORMAT))
    if log_file is not None:
        try:
            file_handler = logging.handlers.WatchedFileHandler(log_file, mode="a", encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                f"--log-file must be a file fxhub can append to, was {str(log_file)!r} ({exc.strerror}); "
                "create its folder or choose another path."
            ) from None
        file_handler.setFormatter(JsonLinesFormatter())
        handlers.append(file_handler)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _MARK, False)]:
        root.removeHandler(old)
        old.close()
    redact = TokenRedactingFilter()
    for handler in handlers:
        setattr(handler, _MARK, True)
        handler.addFilter(redact)
        root.addHandler(handler)
    root.setLevel(number)


def root_logging(ctx: typer.Context, level: str | None, log_file: Path | None) -> None:
    """The root callback's options: configure now (WARNING unless told) and keep them for the command."""
    ctx.meta[_META_KEY] = (level, log_file)
    configure_logging(level or "WARNING", log_file)


def command_logging(
    ctx: typer.Context, level: str | None, log_file: Path | None, *, default_level: str
) -> str:
    """A command's own options over the root's, `default_level` when neither names a level.

    Returns the level in effect (upper case), e.g. for uvicorn's own loggers.
    """
    root_level, root_file = ctx.meta.get(_META_KEY, (None, None))
    effective = (level or root_level or default_level).strip().upper()
    configure_logging(effective, log_file or root_file)
    return effective
