"""Engines, SQLite connection set-up and session factories.

On SQLite, reads and writes use separate engines. Readers run in deferred (read-only)
transactions on a pool of connections and never take the write lock. Writers begin with
`BEGIN IMMEDIATE`, so a read-modify-write cannot be overtaken between its read and its write.
SQLite before 3.51.3 can corrupt a WAL database when several connections write and
checkpoint at once, so there all writes share one connection and queue for it in the pool.
On PostgreSQL both roles share one engine; rows to be changed are locked with `FOR UPDATE`.
"""

import sqlite3 as sqlite3_driver
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from app.config import Settings
from app.db import sqlite_driver
from app.observe.database import observe_engine, pool_class

SQLITE_SAFE_CONCURRENT_WRITERS = (3, 51, 3)


@dataclass(frozen=True)
class Database:
    """The engines and session factories of one database."""

    read_engine: AsyncEngine
    write_engine: AsyncEngine
    reads: async_sessionmaker[AsyncSession]
    writes: async_sessionmaker[AsyncSession]
    # The isolation level in which every statement of a read sees one snapshot (an export's
    # pages); None where a read transaction already does (SQLite).
    snapshot_isolation: str | None = None

    async def checkpoint(self) -> bool:
        """Move SQLite's WAL into the database file and empty it; False if a reader kept it."""
        if self.write_engine.dialect.name != "sqlite":
            return True
        async with self.write_engine.connect() as connection:
            # Straight to the driver: through SQLAlchemy it would run inside BEGIN IMMEDIATE,
            # where SQLite refuses to checkpoint.
            raw = await connection.get_raw_connection()
            driver: Any = raw.driver_connection
            async with driver.execute("PRAGMA wal_checkpoint(TRUNCATE)") as cursor:
                busy, _wal_frames, _copied_frames = await cursor.fetchone()
            return bool(busy == 0)

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.read_engine.dispose()
        if self.write_engine is not self.read_engine:
            await self.write_engine.dispose()


def is_sqlite(url: str | URL) -> bool:
    """Tell whether a database URL names SQLite."""
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_has_wal_reset_bug() -> bool:
    """Whether the linked SQLite can corrupt a WAL database when several connections write and
    checkpoint at once (fixed in 3.51.3)."""
    return sqlite3_driver.sqlite_version_info < SQLITE_SAFE_CONCURRENT_WRITERS


def sqlite_writer_pool_size(settings: Settings) -> int:
    """One writer connection unless the linked SQLite is free of the WAL-reset bug."""
    return 1 if sqlite_has_wal_reset_bug() else settings.pool_size


def sqlite_reader_pool_size(settings: Settings) -> int:
    """Every reader connection opened is kept: POOL_SIZE plus POOL_MAX_OVERFLOW.

    Opening one costs a thread and five statements, keeping it costs little. With overflow
    connections closed on return, 8 s of 32 concurrent gets opened 97 connections instead of
    15, and the mixed read/write load's read p99 was higher in seven of eight paired runs.
    """
    return settings.pool_size + settings.pool_max_overflow


def configure_sqlite(
    engine: AsyncEngine, settings: Settings, *, writer: bool, foreign_keys: bool = True
) -> None:
    """Set the pragmas a server needs and let SQLAlchemy, not the driver, emit BEGIN."""

    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver's own transaction handling would BEGIN lazily and defeat BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(settings.busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")
        if not writer:
            cursor.execute("PRAGMA query_only = ON")
        cursor.close()

    begin = "BEGIN IMMEDIATE" if writer else "BEGIN"
    marks = sqlite_driver.mark_later if writer else sqlite_driver.mark_alone
    event.listen(engine.sync_engine, "before_cursor_execute", marks)

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(connection: Any) -> None:
        # Sent with the transaction's first statement, in the same round trip.
        connection.connection.dbapi_connection.begin(begin)


def ping_on_checkout(engine: AsyncEngine) -> None:
    """Check each PostgreSQL connection with one `;` as the pool hands it out, and replace it
    if that fails (a server restart or failover closed it).

    SQLAlchemy's own `pool_pre_ping` sends `BEGIN`, `;` and `ROLLBACK` on asyncpg (so that
    pgbouncer's transaction mode keeps the ping on one server connection): three round trips
    per checkout where one tells the same. Raising `DisconnectionError` in a checkout listener
    makes the pool discard the connection and check out another.
    """

    @event.listens_for(engine.sync_engine.pool, "checkout")
    def ping(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        try:
            dbapi_connection.run_async(lambda connection: connection.fetchrow(";"))
        except Exception as error:
            raise DisconnectionError(f"the connection failed its ping: {error!r}") from error


def create_engine(
    settings: Settings, *, writer: bool = True, foreign_keys: bool = True
) -> AsyncEngine:
    """Build one engine for the configured database; migrations switch SQLite's keys off."""
    url = settings.database_url
    if not is_sqlite(url):
        engine = create_async_engine(
            url,
            echo=settings.sql_echo,
            poolclass=pool_class(settings, "shared"),
            pool_size=settings.pool_size,
            max_overflow=settings.pool_max_overflow,
            pool_timeout=settings.pool_timeout,
            pool_recycle=settings.pool_recycle,
        )
        if settings.pool_pre_ping:
            ping_on_checkout(engine)
        observe_engine(engine, settings, "shared")
        return engine
    role = "writer" if writer else "reader"
    size = sqlite_writer_pool_size(settings) if writer else sqlite_reader_pool_size(settings)
    engine = create_async_engine(
        url,
        # One round trip to aiosqlite's thread per statement instead of four (see the module).
        module=sqlite_driver.driver(),
        echo=settings.sql_echo,
        poolclass=pool_class(settings, role),
        pool_size=size,
        max_overflow=0,
        pool_timeout=settings.pool_timeout,
    )
    configure_sqlite(engine, settings, writer=writer, foreign_keys=foreign_keys)
    observe_engine(engine, settings, role)
    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded values after commit, so responses never trigger I/O."""
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


def create_database(settings: Settings) -> Database:
    """Build the engines and session factories for the configured database."""
    write_engine = create_engine(settings, writer=True)
    if is_sqlite(settings.database_url):
        read_engine = create_engine(settings, writer=False)
    else:
        read_engine = write_engine
    return Database(
        read_engine=read_engine,
        write_engine=write_engine,
        reads=session_factory(read_engine),
        writes=session_factory(write_engine),
        snapshot_isolation=None if is_sqlite(settings.database_url) else "REPEATABLE READ",
    )
