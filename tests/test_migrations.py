"""Migrations build the schema the models describe, and undo it cleanly."""

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Uuid, column, insert, inspect, table, text
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from app.config import Settings
from app.db.engine import create_engine
from app.db.migrations import SCHEMA_HEAD, schema_head
from app.search.schema import include_object, is_index_table
from tests.conftest import SERVER_URL
from tests.helpers.databases import scratch_database

FOLDING_REVISION = "97c2c08b3352"
IMPORT_OPTIONS_REVISION = "47b0f97e669b"
BEFORE_NARROWED_TRIGGERS = "b7e2d94c05a3"
TABLES = {
    "alembic_version",
    "api_key",
    "author",
    "book",
    "book_author",
    "book_tag",
    "idempotency_key",
    "import",
    "import_chunk",
    "import_error",
    "import_event",
    "import_warning",
    "tag",
}


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
    names = inspect(connection).get_table_names()
    return {name for name in names if not is_index_table(name)}


def drift(connection: Connection) -> list[Any]:
    opts = {"compare_type": True, "include_object": include_object}
    context = MigrationContext.configure(connection, opts=opts)
    return list(compare_metadata(context, SQLModel.metadata))


def revision(connection: Connection) -> str | None:
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def test_the_server_expects_the_newest_migration() -> None:
    # Servers compare the database with SCHEMA_HEAD; a new migration must move it too.
    assert SCHEMA_HEAD == schema_head()


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


def test_folding_migration_fills_existing_rows(tmp_path: Path) -> None:
    author_id, book_id = uuid.uuid4(), uuid.uuid4()
    now = datetime.now(UTC)

    def insert_rows(connection: Connection) -> None:
        common = {"created_at": now, "updated_at": now, "version": 1}
        author = table("author", column("id", Uuid()), column("name"), *map(column, common))
        book = table(
            "book",
            column("id", Uuid()),
            column("title"),
            column("author_id", Uuid()),
            *map(column, common),
        )
        connection.execute(insert(author).values(id=author_id, name="ÉMILE Zola", **common))
        connection.execute(
            insert(book).values(id=book_id, title="Straße", author_id=author_id, **common)
        )
        connection.commit()

    def folded(connection: Connection) -> tuple[str, str]:
        name = connection.execute(text("SELECT name_folded FROM author")).scalar_one()
        title = connection.execute(text("SELECT title_folded FROM book")).scalar_one()
        return name, title

    with scratch_database(tmp_path, SERVER_URL) as database:
        database.upgrade(FOLDING_REVISION + "-1")
        inspect_database(database.url, insert_rows)
        database.upgrade()
        assert inspect_database(database.url, folded) == ("émile zola", "strasse")
        database.downgrade("base")


def test_import_options_migration_keeps_earlier_imports_reading_as_before(tmp_path: Path) -> None:
    import_id = uuid.uuid4()
    now = datetime.now(UTC)
    counters = ("rows_processed", "rows_created", "rows_updated", "rows_skipped", "rows_failed")
    values: dict[str, Any] = {
        "id": import_id,
        "created_at": now,
        "updated_at": now,
        "status": "queued",
        "format": "csv",
        "on_duplicate": "fail",
        "dry_run": False,
        "size_bytes": 0,
        "cancel_requested": False,
        "attempts": 0,
        "checkpoint_offset": 0,
        "checkpoint_line": 0,
        "version": 1,
        **dict.fromkeys(counters, 0),
    }

    def insert_import(connection: Connection) -> None:
        job = table("import", column("id", Uuid()), *map(column, list(values)[1:]))
        connection.execute(insert(job).values(**values))
        connection.commit()

    def options(connection: Connection) -> tuple[Any, ...]:
        found = connection.execute(
            text(
                "SELECT unknown_columns, charset, warnings, delimiter, columns, ignored_columns"
                ' FROM "import"'
            )
        ).one()
        return tuple(found)

    def import_columns(connection: Connection) -> set[str]:
        return {found["name"] for found in inspect(connection).get_columns("import")}

    with scratch_database(tmp_path, SERVER_URL) as database:
        database.upgrade(IMPORT_OPTIONS_REVISION + "-1")
        before = inspect_database(database.url, import_columns)
        inspect_database(database.url, insert_import)
        database.upgrade()
        assert inspect_database(database.url, options) == ("error", "utf-8", 0, None, None, None)
        assert "import_warning" in inspect_database(database.url, table_names)
        database.downgrade(IMPORT_OPTIONS_REVISION + "-1")
        assert inspect_database(database.url, import_columns) == before
        assert "import_warning" not in inspect_database(database.url, table_names)
        assert (
            inspect_database(
                database.url,
                lambda connection: connection.execute(
                    text('SELECT count(*) FROM "import"')
                ).scalar_one(),
            )
            == 1
        )
        database.downgrade("base")


def triggers(connection: Connection) -> dict[str, str]:
    """Each trigger's name and definition, as the database keeps it."""
    if connection.dialect.name == "sqlite":
        query = "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
    else:
        query = "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal"
    return dict(connection.execute(text(query)).all())


def test_narrowing_the_one_item_triggers_is_undone_exactly(tmp_path: Path) -> None:
    with scratch_database(tmp_path, SERVER_URL) as database:
        database.upgrade(BEFORE_NARROWED_TRIGGERS)
        before = inspect_database(database.url, triggers)
        database.upgrade()
        after = inspect_database(database.url, triggers)
        assert after.keys() == before.keys()
        if database.is_sqlite:
            changed = {name for name in before if before[name] != after[name]}
            assert changed == {
                "book_title_search_update",
                "book_series_search_update",
                "book_description_search_update",
                "book_tag_search_insert",
                "book_tag_search_delete",
                "author_name_search_update",
                "author_bio_search_update",
            }
            assert not any("IN (SELECT b.id FROM book" in after[name] for name in changed)
        database.downgrade(BEFORE_NARROWED_TRIGGERS)
        assert inspect_database(database.url, triggers) == before
