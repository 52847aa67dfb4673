"""One log format for every line of the process: Folio's, uvicorn's, Alembic's and SQLAlchemy's.

`configure_logging` runs once per process, before uvicorn or Alembic log anything, and routes
every logger to one handler on stderr that writes text or JSON lines with the time (UTC), level,
logger, message and the id of the request being served.
"""

import logging
import logging.config
import time
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from app.config import Settings
from app.observe.request_id import current_request_id

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
# uvicorn adds an ANSI-coloured copy of some messages, which a JSON line does not need.
JSON_SKIPPED = [*RESERVED_ATTRS, "color_message"]


class RequestIdFilter(logging.Filter):
    """Stamp each record with the id of the request it was logged for (`missing` outside one)."""

    def __init__(self, missing: str | None = None) -> None:
        super().__init__()
        self.missing = missing

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = current_request_id()
        record.request_id = self.missing if request_id is None else request_id
        return True


class OncePerInterval(logging.Filter):
    """Let one record starting with one of `messages` through per `seconds`, saying how many
    were held back since the last one.

    asyncio logs each failed `accept()` (out of file descriptors) with its traceback, up to
    the listening backlog's length at a time, and schedules as many retries, each of which
    logs again if the socket has closed meanwhile (Python 3.11 to 3.13).
    """

    def __init__(self, messages: list[str], seconds: float) -> None:
        super().__init__()
        self.messages = tuple(messages)
        self.seconds = seconds
        self.last = -seconds
        self.held = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if not str(record.msg).startswith(self.messages):
            return True
        now = time.monotonic()
        if now - self.last < self.seconds:
            self.held += 1
            return False
        if self.held:
            record.msg = f"{record.msg} ({self.held} more like it held back)"
        self.last, self.held = now, 0
        return True


ACCEPT_FAILED = [
    "socket.accept() out of system resource",
    "Exception in callback BaseSelectorEventLoop._start_serving",
]


class TextFormatter(logging.Formatter):
    """Lines that sort by time across hosts: ISO 8601 in UTC, with milliseconds."""

    converter = staticmethod(time.gmtime)
    default_time_format = "%Y-%m-%dT%H:%M:%S"
    default_msec_format = "%s.%03dZ"

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)


def json_formatter() -> logging.Formatter:
    """One JSON object a line, with `time`, `level`, `logger`, `message` and any extra fields."""
    return JsonFormatter(
        "%(levelname)s %(name)s %(message)s %(request_id)s",
        rename_fields={"levelname": "level", "name": "logger"},
        reserved_attrs=JSON_SKIPPED,
        timestamp="time",
    )


def logging_config(settings: Settings) -> dict[str, Any]:
    """The `dictConfig` for these settings."""
    json = settings.log_format == "json"
    own_handler = {"handlers": ["stderr"], "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {"()": RequestIdFilter, "missing": None if json else "-"},
            "accept_failed": {"()": OncePerInterval, "messages": ACCEPT_FAILED, "seconds": 10},
        },
        "formatters": {"folio": {"()": json_formatter if json else TextFormatter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "folio",
                "filters": ["request_id"],
            }
        },
        "root": {"level": settings.log_level, "handlers": ["stderr"]},
        "loggers": {
            # uvicorn's own configuration (its CLI sets one up) gives these handlers of their
            # own; here they pass their lines to the root's handler instead.
            "uvicorn": {"level": "NOTSET", "handlers": [], "propagate": True},
            "uvicorn.error": {"level": "NOTSET", "handlers": [], "propagate": True},
            # Folio writes its own access line (app.access), with the route and the request id.
            "uvicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
            # At INFO SQLAlchemy would echo every statement; SQL_ECHO asks for that explicitly.
            "sqlalchemy": {"level": "WARNING"},
            "sqlalchemy.engine.Engine": (
                {"level": "INFO", **own_handler} if settings.sql_echo else {"level": "NOTSET"}
            ),
            "aiosqlite": {"level": "WARNING"},
            "asyncio": {
                "level": "NOTSET",
                "filters": ["accept_failed"],
            },
            # The timed pools (app/observe/database.py) log as SQLAlchemy's own pools do.
            "app.observe.database": {"level": "WARNING"},
            # Alembic lists the plugins it loads each time the app reads the newest migration.
            "alembic.runtime.plugins": {"level": "WARNING"},
        },
    }


def configure_logging(settings: Settings) -> None:
    """Send every logger of the process to one handler in the configured format and level."""
    logging.config.dictConfig(logging_config(settings))
