"""`fxhub.cli.logs`: levels, the JSON-lines file, root and command options, secrets masked."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from fxhub.cli.logs import (
    JsonLinesFormatter,
    LogFileOption,
    LogLevelOption,
    command_logging,
    configure_logging,
    parse_level,
    root_logging,
)
from fxhub.errors import ConfigError
from fxhub.settings import Secret


@pytest.fixture(autouse=True)
def _restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level)


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_parse_level_accepts_any_case_and_names_the_choices_for_a_bad_one() -> None:
    assert parse_level("debug") == logging.DEBUG
    assert parse_level(" Warning ") == logging.WARNING
    with pytest.raises(ConfigError, match=r"one of DEBUG, INFO, WARNING, ERROR, was 'LOUD'"):
        parse_level("LOUD")


def test_log_file_gets_one_json_object_per_record_with_extra_fields_and_the_traceback(tmp_path: Path) -> None:
    path = tmp_path / "fxhub.jsonl"
    configure_logging("INFO", path, stream=io.StringIO())
    log = logging.getLogger("fxhub.test")
    log.debug("not at INFO")
    log.info("outbox drained: left=%d", 0, extra={"left": 0, "outbox": Path("/x/outbox.sqlite3")})
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        log.exception("it failed")
    first, second = _lines(path)
    assert set(first) == {"ts", "level", "logger", "msg", "left", "outbox"}
    assert (first["level"], first["logger"], first["msg"]) == ("INFO", "fxhub.test", "outbox drained: left=0")
    assert (first["left"], first["outbox"]) == (0, "/x/outbox.sqlite3")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", first["ts"])
    assert second["level"] == "ERROR"
    assert "RuntimeError: boom" in second["exc"]


def test_log_file_is_appended_to_and_stderr_keeps_text_lines(tmp_path: Path) -> None:
    path = tmp_path / "fxhub.jsonl"
    path.write_text('{"msg": "from an earlier run"}\n', encoding="utf-8")
    stream = io.StringIO()
    configure_logging("WARNING", path, stream=stream)
    logging.getLogger("fxhub.test").warning("hub unreachable")
    assert [entry["msg"] for entry in _lines(path)] == ["from an earlier run", "hub unreachable"]
    assert stream.getvalue().endswith(" WARNING fxhub.test: hub unreachable\n")


def test_configuring_again_replaces_only_its_own_handlers(tmp_path: Path) -> None:
    foreign = logging.NullHandler()
    logging.getLogger().addHandler(foreign)
    configure_logging("INFO", tmp_path / "a.jsonl", stream=io.StringIO())
    configure_logging("DEBUG", tmp_path / "b.jsonl", stream=io.StringIO())
    logging.getLogger("fxhub.test").debug("to b only")
    assert (tmp_path / "a.jsonl").read_text() == ""
    assert _lines(tmp_path / "b.jsonl")[0]["msg"] == "to b only"
    assert foreign in logging.getLogger().handlers
    logging.getLogger().removeHandler(foreign)


def test_secrets_and_query_tokens_never_reach_the_file(tmp_path: Path) -> None:
    path = tmp_path / "fxhub.jsonl"
    configure_logging("INFO", path, stream=io.StringIO())
    secret = Secret("hub-token-abcdef123456")
    log = logging.getLogger("uvicorn.error.child")  # not the logger runner.py filters: the handler must
    log.setLevel(logging.INFO)  # an in-process uvicorn of another test may have set its parent's level
    log.info("token %s", secret, extra={"token": secret})
    log.info('"WebSocket /v1/stream?symbols=EUR_USD&token=%s" [accepted]', secret.reveal())
    text = path.read_text(encoding="utf-8")
    assert "abcdef123456" not in text
    assert "token=****" in text


def test_unwritable_log_file_is_a_config_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"--log-file must be a file .*no-such-folder"):
        configure_logging("INFO", tmp_path / "no-such-folder" / "x.jsonl")


def _app(seen: list[str], default_level: str) -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def root(ctx: typer.Context, log_level: LogLevelOption = None, log_file: LogFileOption = None) -> None:
        root_logging(ctx, log_level, log_file)

    @app.command()
    def run(ctx: typer.Context, log_level: LogLevelOption = None, log_file: LogFileOption = None) -> None:
        seen.append(command_logging(ctx, log_level, log_file, default_level=default_level))

    @app.command()
    def other() -> None:
        seen.append(logging.getLevelName(logging.getLogger().level))

    return app


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["run"], "INFO"),
        (["--log-level", "debug", "run"], "DEBUG"),
        (["run", "--log-level", "error"], "ERROR"),
        (["--log-level", "debug", "run", "--log-level", "warning"], "WARNING"),
        (["other"], "WARNING"),
        (["--log-level", "error", "other"], "ERROR"),
    ],
)
def test_a_command_level_wins_over_the_root_level_which_wins_over_the_default(
    args: list[str], expected: str
) -> None:
    seen: list[str] = []
    result = CliRunner().invoke(_app(seen, default_level="INFO"), args)
    assert result.exit_code == 0, result.output
    assert seen == [expected]


def test_the_root_log_file_serves_a_command_without_its_own(tmp_path: Path) -> None:
    path = tmp_path / "root.jsonl"
    seen: list[str] = []
    result = CliRunner().invoke(_app(seen, default_level="INFO"), ["--log-file", str(path), "run"])
    assert result.exit_code == 0, result.output
    logging.getLogger("fxhub.test").info("via the root option")
    assert _lines(path)[-1]["msg"] == "via the root option"


def test_json_formatter_masks_a_secret_passed_as_an_extra_field() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", (), None)
    record.api_key = Secret("db-ABCDEFGHIJKLMNOP")
    assert "ABCDEFGHIJ" not in JsonLinesFormatter().format(record)
