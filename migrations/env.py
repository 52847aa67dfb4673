"""Alembic environment: runs migrations over the app's own async engine set-up."""

import asyncio
from logging.config import fileConfig
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import TypeDecorator
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import app.models  # noqa: F401  (registers every table on SQLModel.metadata)
from app.config import Settings
from app.db import create_engine, is_sqlite
from app.search.schema import include_object

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def database_url() -> str:
    """The URL given by the caller (tests), else DATABASE_URL as the app reads it."""
    return config.get_main_option("sqlalchemy.url") or Settings().database_url


def render_item(kind: str, obj: Any, _context: AutogenContext) -> str | Literal[False]:
    """Write app-defined column types as the plain SQLAlchemy types they store as.

    A migration must keep working after the app's own types change, so it never imports them.
    """
    if kind == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl!r}"
    return False


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        # SQLite cannot ALTER most things in place; batch mode copies the table instead.
        render_as_batch=is_sqlite(database_url()),
        compare_type=True,
        compare_server_default=True,
        render_item=render_item,
        # The search index's tables, triggers and columns are the migrations' alone.
        # A migration that recreates book, author, tag or book_tag in batch mode (SQLite)
        # drops that table's triggers: it must create them again and rebuild the index, as
        # the search index migration (fe8479185281) does.
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


def check_foreign_keys(connection: Connection) -> None:
    """Fail the migration if it left a row pointing at nothing (SQLite checks were off)."""
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        raise RuntimeError(f"migration broke foreign keys: {broken[:5]}")


async def run_async_migrations() -> None:
    # Batch mode rebuilds SQLite tables by copy, drop and rename; with foreign keys on,
    # dropping a referenced table would fail or cascade, so they are off while migrating.
    engine = create_engine(Settings(database_url=database_url()), foreign_keys=False)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run_migrations)
            if is_sqlite(database_url()):
                await connection.run_sync(check_foreign_keys)
    finally:
        await engine.dispose()


def run_offline_migrations() -> None:
    context.configure(
        url=database_url(),
        target_metadata=SQLModel.metadata,
        render_as_batch=is_sqlite(database_url()),
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline_migrations()
elif (connection := config.attributes.get("connection")) is not None:
    run_migrations(connection)
else:
    asyncio.run(run_async_migrations())
