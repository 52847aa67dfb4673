"""Scratch databases for tests: SQLite files, or databases created on a PostgreSQL server."""

import asyncio
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from app.db.migrations import alembic_config


@dataclass
class ScratchDatabase:
    url: str
    path: Path | None = None  # set for SQLite

    @property
    def is_sqlite(self) -> bool:
        return self.path is not None

    def upgrade(self, revision: str = "head") -> None:
        command.upgrade(alembic_config(self.url), revision)

    def downgrade(self, revision: str) -> None:
        command.downgrade(alembic_config(self.url), revision)

    def copy(self, directory: Path) -> "ScratchDatabase":
        """A new database with this one's contents: a file copy, or PostgreSQL's TEMPLATE."""
        if self.path is not None:
            path = directory / f"copy-{uuid.uuid4().hex[:8]}.db"
            shutil.copy(self.path, path)
            return ScratchDatabase(url=f"sqlite+aiosqlite:///{path}", path=path)
        name = f"folio_test_{uuid.uuid4().hex[:12]}"
        source = make_url(self.url).database
        run_admin(self.url, f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
        return ScratchDatabase(url=make_url(self.url).set(database=name).render_as_string(False))

    def drop(self) -> None:
        if self.path is None:
            name = make_url(self.url).database
            run_admin(self.url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_admin(url: str, statement: str) -> None:
    """Run one statement on the server's `postgres` database, outside a transaction."""

    async def run() -> None:
        admin_url = make_url(url).set(database="postgres")
        engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                await connection.execute(text(statement))
        finally:
            await engine.dispose()

    # A thread of its own has no running event loop, so this works from async tests too.
    with ThreadPoolExecutor(max_workers=1) as thread:
        thread.submit(asyncio.run, run()).result()


@contextmanager
def scratch_database(directory: Path, server_url: str | None) -> Iterator[ScratchDatabase]:
    """An empty database: a file in `directory`, or a new database on the server."""
    if server_url is None:
        path = directory / "folio.db"
        yield ScratchDatabase(url=f"sqlite+aiosqlite:///{path}", path=path)
        return
    name = f"folio_test_{uuid.uuid4().hex[:12]}"
    run_admin(server_url, f'CREATE DATABASE "{name}"')
    database = ScratchDatabase(url=make_url(server_url).set(database=name).render_as_string(False))
    try:
        yield database
    finally:
        database.drop()


class SqliteTrace:
    """What SQLite itself runs, by connection: unlike the `statements` fixture, this sees the
    `BEGIN` and `COMMIT` the driver sends on its own."""

    def __init__(self) -> None:
        self.by_connection: list[list[str]] = []
        self.open = sqlite3.connect

    def connect(self, *args: Any, **kwargs: Any) -> sqlite3.Connection:
        """`sqlite3.connect`, tracing the new connection."""
        connection: sqlite3.Connection = self.open(*args, **kwargs)
        ran: list[str] = []
        connection.set_trace_callback(ran.append)
        self.by_connection.append(ran)
        return connection

    def clear(self) -> None:
        for ran in self.by_connection:
            ran.clear()

    def all(self) -> list[str]:
        return [statement for ran in self.by_connection for statement in ran]
