"""SQL statements per request, counted in-process where the driver runs or sends them.

On SQLite every connection the stdlib driver opens gets a trace callback, so the count covers
whatever layer sends SQL (the ORM, Core, aiosqlite or plain sqlite3), BEGIN and COMMIT included.
On PostgreSQL the asyncpg methods that send a statement are wrapped: the connection's own (BEGIN,
COMMIT, ROLLBACK, the pool's pre-ping `;`, executemany) and a prepared statement's `fetch` (every
statement SQLAlchemy runs). Either way the app's code stays untouched. Each request is sent once
to warm up, then once more to count.
"""

import os
import random
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import asyncpg  # type: ignore[import-untyped]
from asyncpg.prepared_stmt import PreparedStatement  # type: ignore[import-untyped]
from httpx import ASGITransport, AsyncClient, Response

from app.config import Settings
from app.db.engine import is_sqlite
from app.keys.repository import ApiKeyRepository
from app.main import create_app
from app.state import state_of
from bench import baseline
from bench.workloads import Workload, new_book

# ISBN numbers of the books these probes create; the load workloads use lower ranges.
PROBE_ISBN_BASE = 9 * 10**8
# The statements a results file lists per request; the count is always whole.
KEPT_STATEMENTS = 40


@contextmanager
def traced_sqlite() -> Iterator[list[str]]:
    """Record every statement run on sqlite3 connections opened inside the block."""
    sent: list[str] = []
    original: Callable[..., sqlite3.Connection] = sqlite3.connect

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        connection = original(*args, **kwargs)
        connection.set_trace_callback(sent.append)
        return connection

    with mock.patch.object(sqlite3, "connect", connect):
        yield sent


@contextmanager
def traced_asyncpg() -> Iterator[list[str]]:
    """Record every statement asyncpg sends inside the block, on any connection."""
    sent: list[str] = []

    def recording(method: Callable[..., Any], prepared: bool) -> Callable[..., Any]:
        async def record(self: Any, *args: Any, **kwargs: Any) -> Any:
            sent.append(self.get_query() if prepared else args[0])
            return await method(self, *args, **kwargs)

        return record

    with ExitStack() as patches:
        for name in ("execute", "executemany", "fetch", "fetchrow", "fetchval"):
            method = recording(getattr(asyncpg.Connection, name), prepared=False)
            patches.enter_context(mock.patch.object(asyncpg.Connection, name, method))
        method = recording(PreparedStatement.fetch, prepared=True)
        patches.enter_context(mock.patch.object(PreparedStatement, "fetch", method))
        yield sent


def one_line(statement: str, width: int = 160) -> str:
    text = " ".join(statement.split())
    return text if len(text) <= width else text[: width - 3] + "..."


class Prober:
    """Sends single requests to an in-process app and counts the SQL each one runs."""

    def __init__(
        self, client: AsyncClient, sent: list[str], key: str, isbn_base: int = PROBE_ISBN_BASE
    ) -> None:
        self.client = client
        self.sent = sent
        # Sent with writes only, as the load sends it: its lookup is part of a write's cost.
        self.write_headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.isbn_base = isbn_base
        self.rng = random.Random(7)
        self.written = 0

    async def send(self, workload: Workload, write: bool) -> Response:
        if write:
            self.written += 1
            # Two tags: the mean of the 0-4 that the load generator sends.
            body = new_book(self.rng, workload.authors, self.isbn_base + self.written, 2)
            return await self.client.post("/books", json=body, headers=self.write_headers)
        path = workload.sample_path
        assert path is not None
        return await self.client.get(path)

    async def measure(self, workload: Workload, write: bool) -> dict[str, Any]:
        await self.send(workload, write)
        self.sent.clear()
        response = await self.send(workload, write)
        statements = [one_line(statement) for statement in self.sent]
        return {"status": response.status_code, **listed(statements)}

    async def workload(self, workload: Workload) -> dict[str, Any]:
        share = workload.write_share
        read = await self.measure(workload, False) if share < 1 else None
        write = await self.measure(workload, True) if share > 0 else None
        per_request = (read["count"] * (1 - share) if read else 0) + (
            write["count"] * share if write else 0
        )
        return {"per_request": round(per_request, 2), "read": read, "write": write}


def listed(statements: list[str]) -> dict[str, Any]:
    """How many statements ran, and the first `KEPT_STATEMENTS` of them: a search over a large
    catalogue runs one of FTS5's own per match, hundreds of thousands in all."""
    return {
        "count": len(statements),
        "sql": statements[:KEPT_STATEMENTS],
        "sql_left_out": max(0, len(statements) - KEPT_STATEMENTS),
    }


async def count_statements(
    database_url: str,
    workloads: list[Workload],
    isbn_base: int = PROBE_ISBN_BASE,
    **settings: Any,
) -> dict[str, Any]:
    """For each workload, the statements its requests run; a mix is weighted by its shares.
    `settings` change Folio's (`auth_mode="open"`)."""
    with traced_sqlite() if is_sqlite(database_url) else traced_asyncpg() as sent:
        app = create_app(Settings(database_url=database_url, **settings))
        async with app.router.lifespan_context(app):
            transport = ASGITransport(app=app)
            database = state_of(app).database
            async with database.writes() as session, session.begin():
                _api_key, key = await ApiKeyRepository(session).create("bench", "write")
            async with AsyncClient(transport=transport, base_url="http://bench") as client:
                prober = Prober(client, sent, key, isbn_base)
                return {workload.name: await prober.workload(workload) for workload in workloads}


def count_baseline_statements(database: Path, workloads: list[Workload]) -> dict[str, Any]:
    """The same count for the baseline's handlers, called directly in this thread."""
    os.environ["BENCH_DATABASE"] = str(database)
    results: dict[str, Any] = {}
    with traced_sqlite() as sent:
        for workload in workloads:
            path, _, query = (workload.sample_path or "").partition("?")
            baseline.route("GET", path, query)
            sent.clear()
            status = baseline.route("GET", path, query)[0]
            statements = [one_line(statement) for statement in sent]
            results[workload.name] = {
                "per_request": len(statements),
                "read": {"status": status, **listed(statements)},
                "write": None,
            }
        baseline.close()
    return results
