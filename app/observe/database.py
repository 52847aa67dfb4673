"""Database observation: pool use and waits for the metrics, and the slow-statement log.

`observe_engine` is called once for each engine `app/db.py` creates; `pool_class` gives the
engine a pool that times each wait for a connection.
"""

import logging
import time
from functools import cache
from typing import Any

from prometheus_client import Histogram
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry, PoolProxiedConnection

from app.config import Settings
from app.observe import metrics

logger = logging.getLogger("app.statements")

STARTED = "folio_statement_started"  # the key of the running statement's start in conn.info
COUNTED = "folio_checked_out"  # set in a pool record's record_info while the gauge counts it


class TimedPool(AsyncAdaptedQueuePool):
    """The default async pool, timing how long each checkout waits (SQLAlchemy has no event
    before a checkout, only after it)."""

    waits: Histogram  # CONNECTION_WAIT's series for this pool's role

    def connect(self) -> PoolProxiedConnection:
        started = time.perf_counter()
        try:
            return super().connect()
        finally:
            self.waits.observe(time.perf_counter() - started)


@cache
def timed_pool(role: str) -> type[TimedPool]:
    # A class per role, since SQLAlchemy recreates a disposed pool from its class alone.
    waits = metrics.CONNECTION_WAIT.labels(role)
    return type(f"TimedPool_{role}", (TimedPool,), {"waits": waits})


def pool_class(settings: Settings, role: str) -> type[AsyncAdaptedQueuePool]:
    """The pool class for an engine in this role: timed while metrics are on."""
    return timed_pool(role) if settings.metrics_enabled else AsyncAdaptedQueuePool


def observe_engine(engine: AsyncEngine, settings: Settings, role: str) -> None:
    """Count the engine's connections in the metrics and log its slow statements."""
    if settings.metrics_enabled:
        watch_pool(engine, role)
    if settings.slow_query_ms > 0:
        watch_statements(engine, settings.slow_query_ms / 1000, role, settings.metrics_enabled)


def watch_pool(engine: AsyncEngine, role: str) -> None:
    """Count checked-out connections by pairing each checkin with the checkout it ends.

    SQLAlchemy also fires `checkin` for a connection whose checkout never finished: a task
    cancelled while the pool pinged or opened the connection (a client that went away) has
    the record returned without a `checkout` event. Counting every checkin drove the gauge
    below zero, so only a record this listener saw checked out is counted back in.
    """
    # SQLAlchemy's pool events; SQLModel has none of its own.
    checked_out = metrics.CHECKED_OUT.labels(role)
    pool = engine.pool
    if isinstance(pool, AsyncAdaptedQueuePool):
        metrics.POOL_SIZE.labels(role).set(pool.size())

    @event.listens_for(engine.sync_engine, "checkout")
    def on_checkout(_dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        # `record_info` outlives an invalidation, which replaces the connection (and `info`).
        if record.record_info is not None and not record.record_info.get(COUNTED):
            record.record_info[COUNTED] = True
            checked_out.inc()

    @event.listens_for(engine.sync_engine, "checkin")
    def on_checkin(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        if record.record_info is not None and record.record_info.pop(COUNTED, False):
            checked_out.dec()


def watch_statements(engine: AsyncEngine, threshold: float, role: str, count: bool) -> None:
    """Log each statement slower than `threshold` seconds: its duration and SQL, never its
    parameters (they may hold personal data); the request id comes with the log line."""
    slow = metrics.SLOW_STATEMENTS.labels(role)

    # SQLAlchemy's cursor events time the statement as the driver runs it.
    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def before(conn: Any, *_args: Any) -> None:
        conn.info[STARTED] = time.perf_counter()

    @event.listens_for(engine.sync_engine, "after_cursor_execute")
    def after(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seconds = time.perf_counter() - conn.info.pop(STARTED, time.perf_counter())
        if seconds < threshold:
            return
        if count:
            slow.inc()
        logger.warning(
            "slow statement, %.1f ms: %s",
            seconds * 1000,
            " ".join(statement.split()),
            extra={"duration_ms": round(seconds * 1000, 3), "pool": role},
        )
