"""Start-up checks: refuse in one line what an operator must fix, retry what passes by itself.

`python -m app` runs `check_start` before it serves. Settings that do not parse, a URL Folio
cannot use, a SQLite file in a missing or read-only directory, a database never migrated or
migrated past this code, a PostgreSQL database that does not exist or refuses the login: each
is a `ConfigurationError`, whose message is the one line printed. A database that cannot serve
yet for a reason that can pass (a server still starting, a lock, a full disk) is `NotYet`: the
server starts anyway, answers 503 meanwhile, and `DatabaseWatch` retries until it serves.
"""

import asyncio
import logging
import os
import sqlite3
import sys
from pathlib import Path
from typing import NoReturn

from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncConnection

from app.config import EXIT_CONFIG, EXIT_UNAVAILABLE, Settings
from app.db import faults
from app.db.engine import create_engine, is_sqlite, sqlite_has_wal_reset_bug
from app.db.migrations import SCHEMA_HEAD, migration_scripts
from app.observe.logs import RequestIdFilter, configure_logging, json_formatter

logger = logging.getLogger(__name__)

SUPPORTED_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")
URL_FORM = "sqlite+aiosqlite:///./data/folio.db or postgresql+asyncpg://user:password@host/db"
MIGRATE = "`make migrate` (alembic upgrade head) with the same DATABASE_URL"
# How long one check may wait for the database before it counts as not answering yet.
CHECK_SECONDS = 10.0
FIRST_RETRY_SECONDS = 1.0
LAST_RETRY_SECONDS = 30.0


class ConfigurationError(Exception):
    """Something only the operator can fix; the message is the one line that says how."""


class NotYet(Exception):
    """The database cannot serve yet for a reason that can pass by itself."""

    def __init__(self, fault: faults.Fault, words: str) -> None:
        super().__init__(f"{fault.name}: {words}")
        self.fault = fault
        self.words = words


def read_settings() -> Settings:
    """The environment's settings, or a ConfigurationError naming each bad one."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = [
            f"{str(error['loc'][0]).upper()}={error['input']!s} is not valid"
            f" ({error['msg'][0].lower()}{error['msg'][1:]})"
            for error in exc.errors()
        ]
        raise ConfigurationError(
            f"{'; '.join(problems)}; correct it in the environment or .env"
        ) from None


def database_url(settings: Settings) -> URL:
    """The parsed DATABASE_URL, if it names a database Folio can use."""
    try:
        url = make_url(settings.database_url)
    except ArgumentError:
        raise ConfigurationError(
            f"DATABASE_URL is not a database URL; set it to a URL such as {URL_FORM}"
        ) from None
    if url.drivername not in SUPPORTED_DRIVERS:
        raise ConfigurationError(
            f"DATABASE_URL uses {url.drivername}://, which Folio does not support;"
            f" set it to a URL such as {URL_FORM}"
        )
    return url


def check_sqlite_file(url: URL) -> None:
    """A SQLite file that exists, in a directory the server can write (for -wal and -shm)."""
    if not url.database or url.database == ":memory:" or url.query.get("mode") == "memory":
        raise ConfigurationError(
            "DATABASE_URL names no SQLite file (an in-memory database has no schema);"
            " name a file, e.g. sqlite+aiosqlite:///./data/folio.db"
        )
    path = Path(url.database)
    if not path.parent.is_dir():
        raise ConfigurationError(
            f"DATABASE_URL names {path}, whose directory {path.parent} does not exist;"
            f" create the directory, then run {MIGRATE}"
        )
    if not path.is_file():
        raise ConfigurationError(
            f"DATABASE_URL names {path}, which does not exist; create it with {MIGRATE}"
        )
    if faults.storage_fault(url.database) is faults.READ_ONLY:
        raise ConfigurationError(
            f"DATABASE_URL names {path}, but it or its directory is read-only; make both"
            " writable by the server's user, or point DATABASE_URL at a writable place"
        )


def check_revision(revision: str | None) -> None:
    """The database at this code's newest migration, or a line saying which way to go (from
    the migration scripts, read only then)."""
    if revision == SCHEMA_HEAD:
        return
    from alembic.util.exc import CommandError

    script = migration_scripts()
    head = script.get_current_head()
    if revision == head:
        return
    if revision is None:
        raise ConfigurationError(f"the database has never been migrated; run {MIGRATE}")
    try:
        script.get_revision(revision)
    except CommandError:
        raise ConfigurationError(
            f"the database schema is at {revision}, a migration newer than this code"
            f" (its newest is {head}); run the Folio version that migrated it, or downgrade"
            f" with that version's `alembic downgrade {head}`"
        ) from None
    raise ConfigurationError(
        f"the database schema is at {revision}, behind this code's newest migration {head};"
        f" run {MIGRATE}"
    )


async def read_and_write(connection: AsyncConnection) -> str | None:
    """The schema's revision, after a write that is rolled back: proof the database takes one."""
    if connection.dialect.name == "postgresql":
        # A migration holding the table must not hold the check up for long.
        await connection.execute(text("SET LOCAL lock_timeout = '2s'"))
    # alembic_version belongs to Alembic, not to the models, hence plain SQL.
    revision = await connection.scalar(text("SELECT version_num FROM alembic_version"))
    await connection.execute(text("UPDATE alembic_version SET version_num = version_num"))
    await connection.rollback()
    return None if revision is None else str(revision)


def error_for(exc: BaseException, url: URL) -> Exception:
    """The start-up error a database failure stands for."""
    fault = faults.classify(exc)
    words = faults.driver_message(exc)
    where = url.render_as_string(hide_password=True)
    if fault in (faults.BUSY, faults.UNREACHABLE, faults.DISK_FULL, faults.STORAGE):
        return NotYet(fault, words)
    if fault is faults.NO_SCHEMA:
        return ConfigurationError(f"the database has never been migrated; run {MIGRATE}")
    if fault is faults.NO_DATABASE:
        return ConfigurationError(
            f"DATABASE_URL names database {url.database!r}, which does not exist on"
            f" {url.host}; create it or correct the name, then run {MIGRATE}"
        )
    if fault is faults.LOGIN:
        return ConfigurationError(
            f"DATABASE_URL's user {url.username!r} cannot log in to {url.host} ({words});"
            " correct the user or password in DATABASE_URL"
        )
    if fault is faults.READ_ONLY:
        return ConfigurationError(
            f"the database at {where} is read-only ({words}); give the server's user write"
            " access, or point DATABASE_URL at a writable database"
        )
    return ConfigurationError(
        f"the database at {where} cannot be used ({words}); check DATABASE_URL"
    )


async def check_database(settings: Settings) -> None:
    """Open the database, write to it and read its revision; raise what stands in the way."""
    url = database_url(settings)
    if url.get_backend_name() == "sqlite":
        check_sqlite_file(url)
    # The check's own connection is not the server's pool: it stays out of the metrics, or
    # the process that starts the workers would report a pool it no longer has.
    engine = create_engine(settings.model_copy(update={"metrics_enabled": False}), writer=True)
    try:
        # On SQLite a lock is waited for BUSY_TIMEOUT_MS first, and is then reported as such.
        seconds = CHECK_SECONDS + settings.busy_timeout_ms / 1000
        async with asyncio.timeout(seconds), engine.connect() as connection:
            revision = await read_and_write(connection)
    except TimeoutError:
        raise NotYet(faults.UNREACHABLE, f"no answer in {CHECK_SECONDS:.0f} s") from None
    except (DBAPIError, OSError, PoolTimeoutError) as exc:
        raise error_for(exc, url) from None
    finally:
        await engine.dispose()
    check_revision(revision)


class DatabaseWatch:
    """The start-up check, run before serving and retried in the background until it passes."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # What stands in the way now; readiness reports it. None once the check passed.
        self.waiting_for: NotYet | ConfigurationError | None = None

    def detail(self) -> str:
        """What readiness tells a client about the wait, without paths or names."""
        if isinstance(self.waiting_for, NotYet):
            return f"{self.waiting_for.fault.detail} The server retries by itself."
        return "The database settings must be corrected; the server log says how."

    async def check(self) -> bool:
        """Run the start-up check once; log what stands in the way, or the recovery."""
        try:
            await check_database(self.settings)
        except NotYet as exc:
            self.waiting_for = exc
            faults.causes.report(exc.fault.name, exc.words)
        except ConfigurationError as exc:
            self.waiting_for = exc
            faults.causes.report("configuration", str(exc))
        else:
            self.waiting_for = None
            faults.causes.clear()
        return self.waiting_for is None

    async def retry(self) -> None:
        """Check again with growing pauses until the check passes."""
        pause = FIRST_RETRY_SECONDS
        while True:
            await asyncio.sleep(pause)
            pause = min(pause * 2, LAST_RETRY_SECONDS)
            try:
                if await self.check():
                    return
            except Exception:
                # A bug in a check must not end the retries, nor the server at shutdown.
                logger.exception("database check failed")


def check_start(command: str = "folio", *, serving: bool = True, database: bool = True) -> Settings:
    """The settings to run with; exits with EXIT_CONFIG and one line if they cannot serve.

    Every command starts here: the server (`serving`), which starts through what can pass by
    itself, and the one-off commands, which stop with one line. A command that opens its own
    databases (`database=False`: backups, copies) has only its settings checked. The server's
    logging is set up as soon as its settings are read, so what it says next is in LOG_FORMAT.
    """
    try:
        settings = read_settings()
        database_url(settings)
        if serving:
            configure_logging(settings)
            warn_of_writing_workers(settings)
        if database:
            asyncio.run(check_database(settings))
    except ConfigurationError as exc:
        refuse(f"{command} cannot start: {exc}", EXIT_CONFIG)
    except NotYet as exc:
        if not serving:
            refuse(f"{command} cannot start now: {exc}; try again later", EXIT_UNAVAILABLE)
        logger.warning("database not ready (%s); serving 503s and retrying meanwhile", exc)
    return settings


def warn_of_writing_workers(settings: Settings) -> None:
    """Say so where several workers would write one SQLite file that the WAL-reset bug of
    SQLite before 3.51.3 can corrupt (docs/explanation/database.md)."""
    if settings.workers > 1 and is_sqlite(settings.database_url) and sqlite_has_wal_reset_bug():
        logger.warning(
            "WORKERS=%d on SQLite %s: each worker writes through a connection of its own, and"
            " before SQLite 3.51.3 connections that write and checkpoint at once can corrupt"
            " the database (the WAL-reset bug); run one worker, or move to PostgreSQL",
            settings.workers,
            sqlite3.sqlite_version,
        )


def refuse(line: str, code: int) -> NoReturn:
    """Say on stderr in one line why the command stops (a JSON line when LOG_FORMAT=json asks
    for one, even if the other settings are wrong), and exit with `code`."""
    if os.environ.get("LOG_FORMAT", "").strip().lower() == "json":
        record = logging.LogRecord(logger.name, logging.ERROR, __file__, 0, line, (), None)
        RequestIdFilter().filter(record)
        line = json_formatter().format(record)
    sys.stderr.write(line + "\n")
    raise SystemExit(code)


if __name__ == "__main__":
    # `python -m app` runs this when it starts several workers (see app/__main__.py).
    check_start()
