"""The benchmark's PostgreSQL databases, on the server that `--postgres URL` names.

`folio_bench_<scale>` is the pristine copy of the seeded SQLite database: migrated with Alembic,
filled by `app.commands.copy_database`, vacuumed and analysed, then marked with a comment that
names the dataset. A later run reuses it when that comment matches and it is at the newest
migration, and rebuilds it otherwise. Each run works on `folio_bench_<scale>_run`, created from
it with `CREATE DATABASE ... TEMPLATE` and dropped afterwards, so writes from one run never leak
into the next.
"""

import asyncio
import json
from dataclasses import asdict
from pathlib import Path

from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from app.commands.copy_database import copy_database as copy_rows
from app.db.migrations import alembic_config, schema_head
from bench.dataset import DatasetInfo, sqlite_url

# The collation docs/how-to/postgresql.md asks for: names sort by code point, as on SQLite.
CREATE = "TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C.UTF-8'"


def pristine_name(scale: int) -> str:
    return f"folio_bench_{scale}"


def run_name(scale: int) -> str:
    return f"folio_bench_{scale}_run"


def database_url(server_url: str, name: str) -> str:
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def run_sql(url: str, *statements: str) -> str | None:
    """Run statements outside a transaction (as CREATE DATABASE needs); return the last value."""

    async def run() -> str | None:
        engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                value = None
                for statement in statements:
                    result = await connection.execute(text(statement))
                    value = result.scalar() if result.returns_rows else None
                return None if value is None else str(value)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def server_version(server_url: str) -> str | None:
    return run_sql(server_url, "SHOW server_version")


def marker(info: DatasetInfo) -> str:
    return json.dumps({**asdict(info), "revision": schema_head()}, sort_keys=True)


def is_current(server_url: str, name: str, info: DatasetInfo) -> bool:
    """Whether the database exists, holds this dataset and is at the newest migration."""
    comment = run_sql(
        server_url,
        f"SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '{name}'",
    )
    if comment != marker(info):
        return False
    try:
        revision = run_sql(
            database_url(server_url, name), "SELECT version_num FROM alembic_version"
        )
    except DBAPIError:
        return False
    return revision == schema_head()


def ensure_pristine(server_url: str, source: Path, info: DatasetInfo) -> bool:
    """Build `folio_bench_<scale>` from the SQLite file unless it is current; True if built."""
    name = pristine_name(info.scale)
    if is_current(server_url, name, info):
        return False
    url = database_url(server_url, name)
    run_sql(
        server_url,
        f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
        f'CREATE DATABASE "{name}" {CREATE}',
    )
    command.upgrade(alembic_config(url), "head")
    asyncio.run(copy_rows(sqlite_url(source), url))
    # Settle the bulk-loaded tables as autovacuum would, so it does not start during a run.
    run_sql(url, "VACUUM ANALYZE")
    run_sql(server_url, f"COMMENT ON DATABASE \"{name}\" IS '{marker(info)}'")
    return True


def fresh_run_database(server_url: str, scale: int) -> str:
    """A new `folio_bench_<scale>_run` with the pristine rows; its URL."""
    name = run_name(scale)
    run_sql(
        server_url,
        f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
        f'CREATE DATABASE "{name}" TEMPLATE "{pristine_name(scale)}"',
    )
    return database_url(server_url, name)


def drop_run_database(server_url: str, scale: int) -> None:
    run_sql(server_url, f'DROP DATABASE IF EXISTS "{run_name(scale)}" WITH (FORCE)')
