"""Every line of the process in one format: Folio's, uvicorn's and Alembic's, text or JSON."""

import json
import logging
import re
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from app.config import Settings
from app.db.migrations import PROJECT_ROOT
from app.observe.logs import (
    ACCEPT_FAILED,
    OncePerInterval,
    RequestIdFilter,
    TextFormatter,
    json_formatter,
    logging_config,
)
from tests.helpers.server import running_server

TEXT_LINE = re.compile(
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO|WARNING|ERROR|CRITICAL) "
    r"(?P<logger>[\w.]+) \[(?P<request_id>[!-~]+)\] (?P<message>.*)"
)
JSON_FIELDS = {"time", "level", "logger", "message", "request_id"}


def serve_a_few_requests(database_url: str, log: Path, **env: str) -> str:
    """Start `python -m app`, send a found, a missing and a secret-bearing request, stop it."""
    with running_server(database_url, log, **env) as server:
        headers = {"X-Request-ID": "trace-me"}
        httpx.get(f"{server.url}/books/{uuid.uuid4()}", headers=headers)
        httpx.get(f"{server.url}/books?q=secret-word", headers={"Authorization": "Bearer hush"})
        server.terminate()
    return server.log_text()


def test_json_lines_carry_time_level_logger_message_and_request_id(
    fresh_database: Callable[[], Settings], tmp_path: Path
) -> None:
    text = serve_a_few_requests(
        fresh_database().database_url, tmp_path / "server.log", LOG_FORMAT="json"
    )

    lines = [json.loads(line) for line in text.splitlines()]
    assert all(JSON_FIELDS <= line.keys() for line in lines), text
    loggers = {line["logger"] for line in lines}
    assert {"uvicorn.error", "app.access"} <= loggers
    assert "uvicorn.access" not in loggers
    access = [line for line in lines if line["logger"] == "app.access"]
    traced = [line for line in access if line["request_id"] == "trace-me"]
    assert len(traced) == 1
    assert traced[0]["route"] == "/books/{book_id}"
    assert (traced[0]["method"], traced[0]["status"], traced[0]["level"]) == ("GET", 404, "INFO")
    assert isinstance(traced[0]["duration_ms"], float)
    assert all(line["request_id"] is None for line in lines if line["logger"] == "uvicorn.error")
    assert "secret-word" not in text
    assert "hush" not in text


def test_text_lines_carry_time_level_logger_and_request_id(
    fresh_database: Callable[[], Settings], tmp_path: Path
) -> None:
    text = serve_a_few_requests(fresh_database().database_url, tmp_path / "server.log")

    matches = [TEXT_LINE.fullmatch(line) for line in text.splitlines()]
    assert all(matches), text
    loggers = {match["logger"] for match in matches if match}
    assert {"uvicorn.error", "app.access"} <= loggers
    assert "[trace-me] GET /books/{book_id} 404 " in text
    assert "secret-word" not in text


def test_log_level_drops_the_lines_below_it(
    fresh_database: Callable[[], Settings], tmp_path: Path
) -> None:
    text = serve_a_few_requests(
        fresh_database().database_url, tmp_path / "server.log", LOG_LEVEL="warning"
    )

    assert " INFO " not in text
    assert "app.access" not in text


def test_alembic_logs_in_the_same_format(fresh_database: Callable[[], Settings]) -> None:
    database_url = fresh_database().database_url
    done = subprocess.run(
        [sys.executable, "-m", "alembic", "downgrade", "-1"],
        cwd=PROJECT_ROOT,
        env={"DATABASE_URL": database_url, "LOG_FORMAT": "json", "PATH": ""},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    lines = [json.loads(line) for line in done.stderr.splitlines()]
    assert any(line["logger"] == "alembic.runtime.migration" for line in lines), done.stderr
    assert all(JSON_FIELDS <= line.keys() for line in lines)


@pytest.mark.parametrize(
    ("setting", "value"),
    [("log_format", "xml"), ("log_level", "verbose"), ("log_level", "")],
)
def test_a_bad_log_setting_is_refused(setting: str, value: str) -> None:
    with pytest.raises(ValidationError, match=setting):
        Settings.model_validate({setting: value})


def test_log_settings_are_read_in_any_case() -> None:
    settings = Settings.model_validate({"log_format": "JSON", "log_level": "debug"})

    assert (settings.log_format, settings.log_level) == ("json", "DEBUG")


def test_an_exception_is_one_json_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        failure = sys.exc_info()
    record = logging.LogRecord("app.x", logging.ERROR, __file__, 1, "failed", (), failure)
    RequestIdFilter().filter(record)

    line = json_formatter().format(record)

    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["message"] == "failed"
    assert "ValueError: boom" in parsed["exc_info"]


def test_text_time_is_utc() -> None:
    record = logging.LogRecord("app.x", logging.INFO, __file__, 1, "hello", (), None)
    record.created = 0.0
    record.msecs = 0.0
    RequestIdFilter("-").filter(record)

    assert TextFormatter().format(record) == "1970-01-01T00:00:00.000Z INFO app.x [-] hello"


def test_failed_accepts_are_logged_once_per_interval() -> None:
    # asyncio logs one of these per connection it fails to accept, out of file descriptors.
    held = OncePerInterval(ACCEPT_FAILED, seconds=10)

    def record(message: str) -> logging.LogRecord:
        return logging.LogRecord("asyncio", logging.ERROR, __file__, 1, message, None, None)

    flood = [record(f"{ACCEPT_FAILED[0]}\nsocket: <...>") for _ in range(1000)]
    assert sum(held.filter(each) for each in flood) == 1
    assert held.filter(record("Task was destroyed but it is pending!"))
    held.last -= 10  # the interval is over
    later = record(ACCEPT_FAILED[1] + "(...)")
    assert held.filter(later)
    assert "999 more like it held back" in later.getMessage()
    asyncio_logger = logging_config(Settings())["loggers"]["asyncio"]
    assert asyncio_logger["filters"] == ["accept_failed"]
