"""The benchmark's PostgreSQL experiments act on the schema the migrations build."""

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.search.schema import KEY_TABLES
from bench.experiments import import_floor

pytestmark = pytest.mark.postgres

# Every trigger of the schema's own (not those behind its foreign keys) that fires on INSERT,
# with its table and the source of the function it runs.
INSERT_TRIGGERS = text(
    "SELECT c.relname, t.tgname, p.prosrc FROM pg_trigger AS t"
    " JOIN pg_class AS c ON c.oid = t.tgrelid JOIN pg_proc AS p ON p.oid = t.tgfoid"
    " WHERE NOT t.tgisinternal AND t.tgtype & 4 <> 0"
)


async def test_the_import_floor_turns_off_every_insert_trigger_and_each_writes_the_index(
    engine: AsyncEngine,
) -> None:
    async with engine.connect() as connection:
        found = (await connection.execute(INSERT_TRIGGERS)).all()
    assert found
    assert {(table, name) for table, name, _source in found} == set(import_floor.INDEX_TRIGGERS)
    # Each writes the index's tables itself, or through the function that indexes a book's field.
    writes = [f"INSERT INTO {table}" for table in KEY_TABLES] + ["search_book_field("]
    for _table, name, source in found:
        assert any(spelling in source for spelling in writes), name
