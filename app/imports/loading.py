"""Many new rows into one table at once, the fastest way each database takes them: on
PostgreSQL `COPY` (asyncpg's `copy_records_to_table`), which sends the rows in its binary
format and runs no statement per row; elsewhere one executemany (SQLite runs it in one call).

Triggers run as for an INSERT: `COPY` runs row triggers, and statement triggers once.
"""

from typing import Any

from sqlalchemy import Table
from sqlalchemy.exc import IntegrityError
from sqlmodel import insert
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.engine import Database


async def load_rows(session: AsyncSession, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert the rows (all with the same keys, named as the table's columns) in the
    session's transaction. A row that breaks a constraint raises IntegrityError."""
    if not rows:
        return
    if session.get_bind().dialect.name != "postgresql":
        await session.exec(insert(table), params=rows)
        return
    columns = list(rows[0])
    records = [tuple(row[name] for name in columns) for row in rows]
    connection = await session.connection()
    driver = (await connection.get_raw_connection()).driver_connection
    assert driver is not None  # asyncpg's connection, open while the session holds it
    try:
        await driver.copy_records_to_table(table.name, columns=columns, records=records)
    except Exception as exc:
        # Class 23 is PostgreSQL's "integrity constraint violation". Raised as SQLAlchemy
        # raises it for a statement, so that a batch that lost a race is applied again alike.
        if str(getattr(exc, "sqlstate", "")).startswith("23"):
            raise IntegrityError(f"COPY {table.name}", None, exc) from exc
        raise


class Statistics:
    """Keeps PostgreSQL's planner statistics of the tables an import grows up to date while
    it grows them: `ANALYZE` after the run's first rows, and again whenever the rows it has
    written since it began have doubled (a handful of times in a million rows).

    Without statistics (a new catalogue, autovacuum off or not round yet) PostgreSQL plans
    the search index's lookup of a new book's authors as a hash join over every author, so
    each book costs more the more authors there are; and it deletes a book's words from the
    search index by scanning every word of its kind (983 rows/s over 100,000 rows, against
    3,400 with the index's tables analysed too). SQLite plans by its indexes.
    """

    TABLES = "author, book, book_author, book_tag, search_word, search_vocabulary, search_deletion"

    def __init__(self, database: Database) -> None:
        self.database = database
        self.written = 0
        self.next = 1

    async def grown(self, rows: int) -> None:
        """After a batch that wrote `rows` books."""
        self.written += rows
        if self.written < self.next or self.database.write_engine.dialect.name != "postgresql":
            return
        self.next = self.written * 2
        async with self.database.writes() as session, session.begin():
            connection = await session.connection()
            await connection.exec_driver_sql(f"ANALYZE {self.TABLES}")
