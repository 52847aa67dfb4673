"""Requests abandoned by their clients mid-flight leave nothing held: no pooled connection,
no open transaction, no stuck shutdown."""

import asyncio
import json
import logging
import random
import socket
import sqlite3
import struct
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, text

from app.config import Settings
from app.db.engine import Database, is_sqlite
from tests.helpers.server import HOST, integrity_check, problems_in_log, running_server, sqlite_file
from tests.helpers.serving import serving

logger = logging.getLogger(__name__)

REQUESTS = 1000
PROBE_TIMEOUT = 2.0  # seconds a transaction that is still finishing may hold the write lock
BATCH = 100  # requests in flight at once
# Where a request is cut off: soon after it starts, as it sends its n-th SQL statement (its
# key's lookup aside; a write's are all inside its transaction), or as it commits.
KEY_LOOKUP = "SELECT api_key."
CANCEL_POINTS = ("after 0 ms", "after 5 ms", "statement 1", "statement 2", "statement 4", "commit")


def write_lock_free(path: Path) -> bool:
    """Whether SQLite's write lock can be had; a write transaction left open keeps it."""
    probe = sqlite3.connect(path, timeout=PROBE_TIMEOUT)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
    except sqlite3.OperationalError:
        return False
    finally:
        probe.close()
    return True


async def open_transactions(settings: Settings, database: Database) -> int:
    """How many transactions other than our own are open on the database right now."""
    if is_sqlite(settings.database_url):
        return 0 if write_lock_free(sqlite_file(settings.database_url)) else 1
    async with database.write_engine.connect() as connection:
        idle = text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()"
        )
        return int((await connection.execute(idle)).scalar_one())


def checked_out(database: Database) -> tuple[int, int]:
    return (
        database.read_engine.pool.checkedout(),  # type: ignore[attr-defined]
        database.write_engine.pool.checkedout(),  # type: ignore[attr-defined]
    )


class Canceller:
    """Cancels each request at the point planned for it, watching the SQL its task sends."""

    def __init__(self, database: Database) -> None:
        self.plans: dict[asyncio.Task[Any], str] = {}
        self.statements: Counter[asyncio.Task[Any]] = Counter()
        self.landed: Counter[str] = Counter()
        self.engines = [database.read_engine.sync_engine]
        if database.write_engine is not database.read_engine:
            self.engines.append(database.write_engine.sync_engine)
        for engine in self.engines:
            event.listen(engine, "before_cursor_execute", self.on_statement)
            event.listen(engine, "commit", self.on_commit)

    def stop(self) -> None:
        for engine in self.engines:
            event.remove(engine, "before_cursor_execute", self.on_statement)
            event.remove(engine, "commit", self.on_commit)

    def plan(self, task: asyncio.Task[Any], point: str) -> None:
        self.plans[task] = point
        if point.startswith("after "):
            milliseconds = int(point.split()[1])
            asyncio.get_running_loop().call_later(milliseconds / 1000, self.cancel, task)

    def cancel(self, task: asyncio.Task[Any]) -> None:
        if not task.done():
            self.landed[self.plans[task]] += 1
            task.cancel()

    def on_statement(self, _connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        # SQLAlchemy runs this inside the task that sends the statement. The key's lookup is
        # not counted: the key cache sends it for some requests and not for others.
        task = asyncio.current_task()
        if task is None or task not in self.plans or statement.startswith(KEY_LOOKUP):
            return
        self.statements[task] += 1
        if self.plans[task] == f"statement {self.statements[task]}":
            self.cancel(task)

    def on_commit(self, _connection: Any) -> None:
        task = asyncio.current_task()
        if task is not None and self.plans.get(task) == "commit":
            self.cancel(task)


async def test_a_thousand_cancelled_requests_leave_no_connection_or_transaction_behind(
    fresh_database: Callable[[], Settings],
) -> None:
    # Without a rate limit: a thousand requests in a few seconds are past any per-minute one.
    settings = fresh_database().model_copy(update={"rate_limit_per_minute": 0})
    async with serving(settings) as (client, database):
        author = (await client.post("/authors", json={"name": "Kept"})).json()
        book_body = {"title": "Kept", "author_id": author["id"], "tags": ["kept"]}
        book = (await client.post("/books", json=book_body)).json()
        rng = random.Random(3)

        async def request(n: int) -> httpx.Response:
            """One of the app's reads and writes, each with real database work to abandon."""
            kind = n % 6
            if kind == 0:
                return await client.get("/books", params={"per_page": 20, "tag": "kept"})
            if kind == 1:
                return await client.get(f"/authors/{author['id']}")
            if kind == 2:
                return await client.post("/authors", json={"name": f"Abandoned {n}"})
            if kind == 3:
                body = {**book_body, "title": f"Abandoned {n}", "tags": [f"new-{n}", "kept"]}
                return await client.post("/books", json=body)
            if kind == 4:
                return await client.patch(f"/authors/{author['id']}", json={"bio": f"bio {n}"})
            return await client.patch(f"/books/{book['id']}", json={"tags": [f"t{n}", "kept"]})

        canceller = Canceller(database)
        outcomes: Counter[str] = Counter()
        for start in range(0, REQUESTS, BATCH):
            tasks = [asyncio.create_task(request(n)) for n in range(start, start + BATCH)]
            for task in tasks:
                canceller.plan(task, rng.choice(CANCEL_POINTS))
            for result in await asyncio.gather(*tasks, return_exceptions=True):
                if isinstance(result, asyncio.CancelledError):
                    outcomes["cancelled"] += 1
                elif isinstance(result, httpx.Response):
                    outcomes[str(result.status_code)] += 1
                else:
                    outcomes[repr(result)] += 1
        canceller.stop()

        logger.info("cancelled requests: %s; cancelled at %s", dict(outcomes), canceller.landed)
        assert set(outcomes) <= {"cancelled", "200", "201"}, outcomes
        assert outcomes["cancelled"] == canceller.landed.total()
        # Cancellations landed at every point, inside transactions (statements 2+, commit) too.
        assert set(canceller.landed) == set(CANCEL_POINTS)
        assert outcomes["cancelled"] >= REQUESTS // 2
        assert checked_out(database) == (0, 0)
        assert await open_transactions(settings, database) == 0
        assert await database.checkpoint()  # and no reader is left holding a snapshot
        # Writes still go through: no abandoned transaction holds the write lock.
        assert (await client.get("/health/ready")).status_code == 200
        created = await client.post("/authors", json={"name": "Still writable"})
        assert created.status_code == 201, created.text
        patched = await client.patch(f"/books/{book['id']}", json={"tags": ["kept"]})
        assert patched.status_code == 200, patched.text
        assert checked_out(database) == (0, 0)
    if is_sqlite(settings.database_url):
        assert integrity_check(sqlite_file(settings.database_url)) == ["ok"]


@pytest.mark.parametrize(
    ("method", "point"),
    [
        ("GET", "statement 1"),
        ("GET", "commit"),
        ("PATCH", "statement 1"),
        ("PATCH", "statement 2"),
        ("PATCH", "commit"),
    ],
)
async def test_a_request_cancelled_at_any_point_leaves_no_transaction_open(
    fresh_database: Callable[[], Settings], method: str, point: str
) -> None:
    # Cut off in "statement 1", the SELECT of the author, a request used to leave its statement
    # unfinished: SQLite then kept its transaction open until the garbage collector ran, so a
    # PATCH held the write lock (every later write answered 503) and a GET held a snapshot
    # that kept the WAL from being checkpointed.
    settings = fresh_database().model_copy(update={"busy_timeout_ms": 200})
    async with serving(settings) as (client, database):
        author = (await client.post("/authors", json={"name": "Kept"})).json()
        canceller = Canceller(database)
        body = {"bio": "lost"} if method == "PATCH" else None
        task = asyncio.create_task(client.request(method, f"/authors/{author['id']}", json=body))
        canceller.plan(task, point)
        with pytest.raises(asyncio.CancelledError):
            await task
        canceller.stop()

        assert canceller.landed == {point: 1}
        assert checked_out(database) == (0, 0)
        assert await open_transactions(settings, database) == 0
        assert await database.checkpoint()  # no reader holds an old snapshot either
        answer = await client.patch(f"/authors/{author['id']}", json={"bio": "kept"})
        assert answer.status_code == 200, answer.text
        assert answer.json()["version"] in (2, 3)  # a cancelled commit may have gone through


def abort_payload(n: int, author_id: str, key: str) -> bytes:
    """A request cut short: headers that promise a body never sent, or a whole request."""
    head = f"Host: folio\r\nContent-Type: application/json\r\nAuthorization: Bearer {key}\r\n"
    body = json.dumps({"name": f"Aborted {n}"}).encode()
    kind = n % 10
    if kind < 4:  # the body never comes
        return f"POST /authors HTTP/1.1\r\n{head}Content-Length: 100\r\n\r\n".encode() + body[:5]
    if kind < 7:  # the body of a PATCH never comes
        return f"PATCH /authors/{author_id} HTTP/1.1\r\n{head}Content-Length: 50\r\n\r\n".encode()
    if kind == 7:  # a whole write whose answer nobody reads
        return (
            f"POST /authors HTTP/1.1\r\n{head}Content-Length: {len(body)}\r\n\r\n".encode() + body
        )
    return f"GET /books?per_page=20 HTTP/1.1\r\n{head}\r\n".encode()


async def send_and_abort(port: int, payload: bytes, reset: bool) -> None:
    _reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), timeout=10)
    sock = writer.get_extra_info("socket")
    if reset:  # close with a TCP RST rather than a FIN
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.write(payload)
    await writer.drain()
    writer.close()
    await writer.wait_closed()


async def test_a_thousand_aborted_connections_leave_the_server_answering_and_stopping_cleanly(
    fresh_database: Callable[[], Settings], tmp_path: Path
) -> None:
    settings = fresh_database()
    with running_server(settings.database_url, tmp_path / "server.log") as server:
        async with httpx.AsyncClient(
            base_url=server.url, headers=server.headers, timeout=30
        ) as http:
            author = (await http.post("/authors", json={"name": "Target"})).json()
            for start in range(0, REQUESTS, BATCH):
                await asyncio.gather(
                    *(
                        send_and_abort(
                            server.port, abort_payload(n, author["id"], server.key), n % 2 == 0
                        )
                        for n in range(start, start + BATCH)
                    )
                )
            assert (await http.get("/health/ready")).status_code == 200
            created = await http.post("/authors", json={"name": "After the aborts"})
            assert created.status_code == 201, created.text
            listed = await http.get("/authors", params={"q": "aborted", "per_page": 1})
            # Only whole POSTs (one in ten) can have been stored, and nothing twice.
            stored = listed.json()["meta"]["total"]
            assert stored <= REQUESTS // 10
        if is_sqlite(settings.database_url):
            assert write_lock_free(sqlite_file(settings.database_url))
        code, seconds = server.terminate(timeout=5)
        log = server.log_text()
    logger.info(
        "aborted connections: %d whole POSTs stored; shutdown took %.2f s, exit code %d",
        stored,
        seconds,
        code,
    )
    assert code == 0
    assert problems_in_log(log) == []
