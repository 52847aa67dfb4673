"""Shared fixtures: a database built by the migrations once per run, one rolled-back
transaction per test, and an HTTP client that drives the real app through ASGI."""

import os
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from app.config import Settings
from app.db.engine import Database, create_engine
from app.main import create_app
from app.state import state_of
from tests.helpers.access import bearer, make_key
from tests.helpers.databases import ScratchDatabase, SqliteTrace, scratch_database

# TEST_DATABASE_URL picks the server to test against (PostgreSQL); SQLite files otherwise.
SERVER_URL = os.environ.get("TEST_DATABASE_URL")
API_KEY_LOOKUP = "SELECT api_key."


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out the tests of SQLite's own set-up when the suite runs against a server,
    and the tests that need a PostgreSQL server when it does not."""
    left_out = "postgres" if SERVER_URL is None else "sqlite"
    selected = [item for item in items if item.get_closest_marker(left_out) is None]
    config.hook.pytest_deselected(items=[item for item in items if item not in selected])
    items[:] = selected


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScratchDatabase]:
    """A database built by running every migration; only ever copied, never connected to."""
    with scratch_database(tmp_path_factory.mktemp("template"), SERVER_URL) as database:
        database.upgrade()
        yield database


@pytest.fixture(scope="session")
def migrated(
    template: ScratchDatabase, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ScratchDatabase]:
    """The database that the run's rolled-back tests share."""
    database = template.copy(tmp_path_factory.mktemp("shared"))
    yield database
    database.drop()


@pytest.fixture
def fresh_database(template: ScratchDatabase, tmp_path: Path) -> Iterator[Callable[[], Settings]]:
    """Settings for a migrated database of the test's own, for tests that must really commit."""
    created: list[ScratchDatabase] = []

    def make() -> Settings:
        created.append(template.copy(tmp_path))
        return Settings(database_url=created[-1].url)

    yield make
    for database in created:
        database.drop()


@pytest.fixture(scope="session")
async def engine(migrated: ScratchDatabase) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(Settings(database_url=migrated.url), writer=True)
    yield engine
    await engine.dispose()


@pytest.fixture
async def database(engine: AsyncEngine) -> AsyncIterator[Database]:
    """The app's database, inside a transaction that is rolled back after the test.

    Sessions join it through savepoints, so the app's own commit path runs unchanged.
    """
    async with engine.connect() as connection:
        transaction = await connection.begin()
        sessions = async_sessionmaker(
            bind=connection,
            class_=AsyncSession,
            expire_on_commit=False,
            join_transaction_mode="create_savepoint",
        )
        yield Database(read_engine=engine, write_engine=engine, reads=sessions, writes=sessions)
        await transaction.rollback()


@pytest.fixture
def app(database: Database, migrated: ScratchDatabase) -> FastAPI:
    """The app, its database swapped for the test's rolled-back one."""
    # No rate limit: a test may send more than a minute's worth (tests/keys tests the limits).
    app = create_app(Settings(database_url=migrated.url, rate_limit_per_minute=0))
    state_of(app).database = database
    return app


@pytest.fixture
async def client(app: FastAPI, database: Database) -> AsyncIterator[AsyncClient]:
    """A client of the app that sends an admin key made in the test's database."""
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    headers = bearer(await make_key(database))
    async with AsyncClient(transport=transport, base_url="http://test", headers=headers) as client:
        yield client


@pytest.fixture
def statements(engine: AsyncEngine) -> Iterator[list[tuple[str, Any]]]:
    """Every SQL statement the test sends, in order, with its parameters as the driver got them."""
    sent: list[tuple[str, Any]] = []
    wrapping_lookups: set[str] = set()  # savepoints that held only a key lookup

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        # The access check's key lookup is left out, with the savepoint a test session wraps
        # it in: these tests count what each route sends, and whether a request looks its key
        # up depends on the key cache (tests/keys counts the lookup itself).
        if statement.startswith(API_KEY_LOOKUP):
            if sent and sent[-1][0].startswith("SAVEPOINT "):
                wrapping_lookups.add(sent.pop()[0].removeprefix("SAVEPOINT "))
            return
        if statement.removeprefix("RELEASE SAVEPOINT ") in wrapping_lookups:
            return
        sent.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    yield sent
    event.remove(engine.sync_engine, "before_cursor_execute", record)


@pytest.fixture
def sqlite_ran(monkeypatch: pytest.MonkeyPatch) -> SqliteTrace:
    """What SQLite itself runs on every connection opened from now on."""
    trace = SqliteTrace()
    monkeypatch.setattr(sqlite3, "connect", trace.connect)
    return trace
