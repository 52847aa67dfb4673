"""Copy one Folio database into another, empty one.

    python -m app.commands.copy_database --from URL --to URL

Made for moving from SQLite to PostgreSQL (`make copy-to-postgres`), it works between any two
databases the app supports. Both must be migrated to this code's newest revision, and every table of
the target must be empty. Tables are copied parent before child, in batches, with SQLAlchemy Core
through the app's own engines (so timestamps and ids convert as the app stores them), in one
transaction on the target: a copy that fails part-way leaves the target as empty as it was.
"""

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import SQLModel

import app.models  # noqa: F401  (registers every table on SQLModel.metadata)
from app.commands.progress import Progress
from app.config import Settings
from app.db.checks import check_start
from app.db.engine import create_engine, is_sqlite
from app.db.migrations import schema_head

BATCH_SIZE = 1000


class CopyError(Exception):
    """The copy cannot start or did not complete; the target is unchanged."""


async def revision(connection: AsyncConnection, role: str) -> str:
    """The migration a database is at; an error if it has never been migrated."""
    try:
        # Alembic's table is not a model, hence plain SQL.
        found = await connection.scalar(text("SELECT version_num FROM alembic_version"))
    except DBAPIError as exc:
        raise CopyError(f"the {role} database has not been migrated (make migrate)") from exc
    if found is None:
        raise CopyError(f"the {role} database has not been migrated (make migrate)")
    return str(found)


async def check_schemas(source: AsyncConnection, target: AsyncConnection) -> None:
    """Both databases at this code's newest migration, whose tables the copy writes."""
    head = schema_head()
    source_revision = await revision(source, "source")
    target_revision = await revision(target, "target")
    if source_revision != target_revision:
        raise CopyError(
            f"the source is at revision {source_revision} and the target at {target_revision};"
            " migrate both to the same revision first"
        )
    if source_revision != head:
        raise CopyError(
            f"both databases are at revision {source_revision}, not at this code's newest,"
            f" {head}; migrate both first (make migrate)"
        )


async def row_count(connection: AsyncConnection, table: Table) -> int:
    return int(await connection.scalar(select(func.count()).select_from(table)) or 0)


async def copy_table(
    source: AsyncConnection,
    target: AsyncConnection,
    table: Table,
    batch_size: int,
    progress: Progress,
) -> int:
    """Copy every row of one table in batches; return how many were copied."""
    copied = 0
    rows = await source.stream(select(table).order_by(*table.primary_key.columns))
    async for batch in rows.partitions(batch_size):
        await target.execute(insert(table), [dict(row._mapping) for row in batch])
        copied += len(batch)
        progress.advance(len(batch))
    return copied


async def copy_database(
    source_url: str, target_url: str, *, batch_size: int = BATCH_SIZE
) -> dict[str, int]:
    """Copy every table of the source into the empty target; return the rows copied per table."""
    if source_url == target_url:
        raise CopyError("the source and the target are the same database")
    tables: Sequence[Table] = SQLModel.metadata.sorted_tables  # parents before children
    source_engine = create_engine(Settings(database_url=source_url), writer=False)
    target_engine = create_engine(Settings(database_url=target_url), writer=True)
    try:
        async with source_engine.connect() as source, target_engine.connect() as target:
            if not is_sqlite(source_url):
                # One snapshot for every table; SQLite's read transaction is one already.
                await source.execution_options(isolation_level="REPEATABLE READ")
            async with source.begin(), target.begin():
                await check_schemas(source, target)
                for table in tables:
                    if await row_count(target, table):
                        raise CopyError(f"the target is not empty: table {table.name} has rows")
                total = sum([await row_count(source, table) for table in tables])
                with Progress("copying", total, "rows") as progress:
                    copied = {
                        table.name: await copy_table(source, target, table, batch_size, progress)
                        for table in tables
                    }
                for table in tables:
                    expected = await row_count(source, table)
                    if copied[table.name] != expected or await row_count(target, table) != expected:
                        raise CopyError(f"table {table.name} did not copy whole; nothing was kept")
                if target_engine.dialect.name == "postgresql":
                    # Fresh bulk-loaded tables have no planner statistics until autovacuum runs.
                    await target.execute(text(f"ANALYZE {', '.join(t.name for t in tables)}"))
        return copied
    finally:
        await source_engine.dispose()
        await target_engine.dispose()


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m app.commands.copy_database",
        description="Copy a Folio database into an empty one migrated to the same revision.",
    )
    parser.add_argument("--from", dest="source", required=True, help="the database to copy")
    parser.add_argument("--to", dest="target", required=True, help="the empty database to fill")
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="rows per INSERT")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the copy and print the rows copied per table; 1 if it could not be done."""
    arguments = parse_arguments(argv)
    started = time.monotonic()
    # The pool and timeout settings apply to both engines.
    check_start("copy", serving=False, database=False)
    try:
        copied = asyncio.run(
            copy_database(arguments.source, arguments.target, batch_size=arguments.batch_size)
        )
    except (CopyError, DBAPIError, OSError, ArgumentError) as exc:
        print(f"copy failed, the target is unchanged: {exc}", file=sys.stderr)  # noqa: T201
        return 1
    # A command-line tool: these lines are its output.
    for name, rows in copied.items():
        print(f"{name:<16} {rows:>10} rows")  # noqa: T201
    seconds = time.monotonic() - started
    print(f"{'total':<16} {sum(copied.values()):>10} rows in {seconds:.1f} s")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
