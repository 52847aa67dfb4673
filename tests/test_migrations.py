"""Migrations build the schema the models describe, and undo it cleanly."""

import asyncio
import warnings
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from app.config import Settings
from app.db import create_engine
from app.main import schema_head
from tests.conftest import SERVER_URL
from tests.databases import scratch_database

TABLES = {"alembic_version", "author", "book", "book_tag", "idempotency_key", "tag"}


def inspect_database(url: str, look: Any) -> Any:
    """Run `look(connection)` on a synchronous view of the database."""

    async def run() -> Any:
        engine = create_engine(Settings(database_url=url))
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(look)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def drift(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    with warnings.catch_warnings():
        # SQLite cannot reflect expression indexes; test_expression_index_exists covers it.
        warnings.filterwarnings("ignore", message=".*expression-based index")
        return list(compare_metadata(context, SQLModel.metadata))


def revision(connection: Connection) -> str | None:
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def test_upgrade_downgrade_upgrade_round_trip_without_drift(tmp_path: Path) -> None:
    with scratch_database(tmp_path, SERVER_URL) as database:
        database.upgrade()
        assert inspect_database(database.url, table_names) == TABLES
        assert inspect_database(database.url, revision) == schema_head()

        database.downgrade("base")
        assert inspect_database(database.url, table_names) == {"alembic_version"}

        database.upgrade()
        assert inspect_database(database.url, table_names) == TABLES
        assert inspect_database(database.url, drift) == []


def index_names(connection: Connection) -> set[str]:
    # Reflection skips expression indexes, so ask each catalogue directly.
    if connection.dialect.name == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'author'"
    else:
        query = "SELECT indexname FROM pg_indexes WHERE tablename = 'author'"
    return set(connection.execute(text(query)).scalars())


def test_expression_index_exists(tmp_path: Path) -> None:
    with scratch_database(tmp_path, SERVER_URL) as database:
        database.upgrade()
        assert "ix_author_lower_name" in inspect_database(database.url, index_names)
