"""Database failures that are neither the request's fault nor a bug, named and logged once.

Each becomes a 503 problem with `Retry-After` (errors.py maps them); the log gets one line
per change of cause, with the traceback only at DEBUG, so a broken disk does not flood it.
"""

import logging
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from app.db.driver_errors import is_postgres_busy, is_postgres_unreachable, sqlstate

logger = logging.getLogger(__name__)

# The same cause is logged again after this long, so a fault that lasts stays visible.
REPEAT_SECONDS = 60.0
# Less free space than this beside a SQLite file and readiness reports a full disk: a write
# that grows the WAL by a few pages would fail.
MIN_FREE_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Fault:
    """A named reason the database cannot serve now; `detail` is safe to show a client."""

    name: str
    detail: str


BUSY = Fault("busy", "The database is busy; retry shortly.")
UNREACHABLE = Fault("unreachable", "The database cannot be reached; retry shortly.")
NO_SCHEMA = Fault("no_schema", "The database has no schema yet; it must be migrated.")
READ_ONLY = Fault("read_only", "The database is read-only; writes cannot be stored.")
DISK_FULL = Fault("disk_full", "The database's disk is full; writes cannot be stored.")
NO_DATABASE = Fault("no_database", "The configured database does not exist.")
CANNOT_OPEN = Fault("cannot_open", "The database file cannot be opened.")
STORAGE = Fault("storage", "The database's storage failed to read or write.")
LOGIN = Fault("login", "The database refused the server's credentials.")

# PostgreSQL SQLSTATEs with a cause of their own (the rest of classes 08, 53, 57P: unreachable).
POSTGRES_FAULTS = {
    "42P01": NO_SCHEMA,  # undefined_table
    "25006": READ_ONLY,  # read_only_sql_transaction (a standby, or default_transaction_read_only)
    "53100": DISK_FULL,
    "3D000": NO_DATABASE,  # invalid_catalog_name
    "28P01": LOGIN,  # invalid_password
    "28000": LOGIN,  # invalid_authorization_specification
}
# SQLite reports no codes through the driver's messages; these are its fixed message texts.
SQLITE_FAULTS = (
    (re.compile(r"database( table)? is locked|database is busy"), BUSY),
    (re.compile(r"no such table"), NO_SCHEMA),
    (re.compile(r"readonly database|read-only file system"), READ_ONLY),
    (re.compile(r"database or disk is full|no space left"), DISK_FULL),
    (re.compile(r"unable to open database"), CANNOT_OPEN),
    (re.compile(r"disk i/o error"), STORAGE),
)


def driver_message(exc: BaseException) -> str:
    """The driver's own words, first line only."""
    original = exc.orig if isinstance(exc, DBAPIError) else exc
    text = str(original).strip() or type(original).__name__
    return text.splitlines()[0]


def classify(exc: BaseException) -> Fault | None:
    """The fault a database error stands for, or None when it is the request's or a bug."""
    if isinstance(exc, PoolTimeoutError) or is_postgres_busy(exc):
        return BUSY
    code = sqlstate(exc)
    if code in POSTGRES_FAULTS:
        return POSTGRES_FAULTS[code]
    # asyncpg raises OSError (connection refused, time-outs) without a DBAPI wrapper.
    if isinstance(exc, OSError) or is_postgres_unreachable(exc):
        return DISK_FULL if getattr(exc, "errno", None) == 28 else UNREACHABLE  # ENOSPC
    if not isinstance(exc, DBAPIError):
        return None
    message = driver_message(exc).lower()
    for pattern, fault in SQLITE_FAULTS:
        if pattern.search(message):
            return fault
    if exc.connection_invalidated or isinstance(exc.orig, OSError):
        return UNREACHABLE
    if "connection" in message and ("refused" in message or "closed" in message):
        return UNREACHABLE
    return None


class CauseLog:
    """Logs each cause once (again after REPEAT_SECONDS while it lasts), not once per request."""

    def __init__(self) -> None:
        self.logged_at: dict[str, float] = {}

    def report(self, name: str, words: str, exc: BaseException | None = None) -> None:
        """Log fault `name` at WARNING if it is news; the traceback goes to DEBUG every time."""
        now = time.monotonic()
        if now - self.logged_at.get(name, -REPEAT_SECONDS) >= REPEAT_SECONDS:
            self.logged_at[name] = now
            logger.warning("database unavailable: %s: %s", name, words)
        if exc is not None:
            logger.debug("database unavailable: %s: %s", name, words, exc_info=exc)

    def clear(self) -> None:
        """The database serves again: say so once."""
        if self.logged_at:
            logger.warning("database available again (was: %s)", ", ".join(self.logged_at))
            self.logged_at.clear()


# One per process: the request handlers, readiness and the start-up watch share it.
causes = CauseLog()


def report(fault: Fault, exc: BaseException) -> None:
    """Log a fault met while serving a request: its name and the driver's words."""
    causes.report(fault.name, driver_message(exc), exc)


def storage_fault(database: str | None) -> Fault | None:
    """READ_ONLY or DISK_FULL when a SQLite file's filesystem cannot take writes now."""
    if not database or database == ":memory:":
        return None
    path = Path(database)
    if not path.parent.is_dir():
        return CANNOT_OPEN
    stats = os.statvfs(path.parent)
    # os.access also sees a read-only mount, which root's permission bypass would hide.
    writable = os.access(path.parent, os.W_OK) and (not path.exists() or os.access(path, os.W_OK))
    if stats.f_flag & os.ST_RDONLY or not writable:
        return READ_ONLY
    if stats.f_bavail * stats.f_frsize < MIN_FREE_BYTES:
        return DISK_FULL
    return None
