"""A server killed with SIGKILL mid-load keeps every acknowledged write and restarts by itself."""

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx

from app.config import Settings
from app.db.engine import is_sqlite
from tests.faults.workload import Writer, snapshot, verify, wait_until
from tests.helpers.server import ServerProcess, integrity_check, sqlite_file

logger = logging.getLogger(__name__)

CLIENTS = 16
KILL_AFTER_ACKNOWLEDGED = 100
MAX_SECONDS_BEFORE_KILL = 3.0


async def test_sigkill_mid_load_loses_no_acknowledged_write(
    fresh_database: Callable[[], Settings], tmp_path: Path
) -> None:
    settings = fresh_database()
    log = tmp_path / "server.log"
    server = ServerProcess(settings.database_url, log).start()
    clients = [
        httpx.AsyncClient(base_url=server.url, headers=server.headers, timeout=30)
        for _ in range(CLIENTS)
    ]
    writers = [Writer(n, http, deletes=True, reads=False) for n, http in enumerate(clients)]

    def acknowledged() -> int:
        return sum(writer.acknowledged.total() for writer in writers)

    try:
        # Each writer goes on until its first request that gets no answer.
        load = asyncio.gather(*(writer.run(time.monotonic() + 60, 10_000) for writer in writers))
        started = time.monotonic()
        await wait_until(
            lambda: (
                acknowledged() >= KILL_AFTER_ACKNOWLEDGED
                or time.monotonic() - started > MAX_SECONDS_BEFORE_KILL
            ),
            MAX_SECONDS_BEFORE_KILL + 5,
            "the load to get going",
        )
        server.kill()
        await asyncio.wait_for(load, timeout=30)
    finally:
        server.stop()
        await asyncio.gather(*(http.aclose() for http in clients))

    failures = [failure for writer in writers for failure in writer.failures]
    assert failures == [], failures[:10]
    lost = [writer.pending for writer in writers if writer.pending is not None]
    assert len(lost) == CLIENTS  # every writer ran until the kill cut it off
    # Requests already sent when the server died, not merely refused afterwards.
    in_flight = [request for request in lost if "ConnectError" not in request.error]
    assert in_flight
    if is_sqlite(settings.database_url):
        # The file as the crash left it (SQLite replays the WAL on opening it).
        assert integrity_check(sqlite_file(settings.database_url)) == ["ok"]

    # The same command on the same database, with no repair step in between.
    restarted = ServerProcess(settings.database_url, log)
    # The same clients, with the same API key: their Idempotency-Keys belong to it.
    restarted.key = server.key
    restarted.start()
    try:
        async with httpx.AsyncClient(
            base_url=restarted.url, headers=restarted.headers, timeout=30
        ) as http:
            found = await snapshot(http)
            assert verify(writers, found) == []
            # Each create left unanswered, sent again with its key: the stored answer or a new
            # creation, and in either case exactly one row, as the writer now expects.
            retried = [await writer.retry(http) for writer in writers]
            assert any(retried)
            assert [failure for writer in writers for failure in writer.failures] == []
            assert verify(writers, await snapshot(http)) == []
            assert (await http.get("/health/ready")).status_code == 200
            created = await http.post("/authors", json={"name": "After the crash"})
            assert created.status_code == 201, created.text
        code, _seconds = restarted.terminate()
        assert code == 0
    finally:
        restarted.stop()
    if is_sqlite(settings.database_url):
        assert integrity_check(sqlite_file(settings.database_url)) == ["ok"]

    statuses = sum((writer.statuses for writer in writers), Counter[int]())
    logger.info(
        "crash: killed after %d acknowledged writes (%s); %d requests in flight; "
        "after restart %d authors, %d books as acknowledged",
        acknowledged(),
        dict(statuses),
        len(in_flight),
        len(found.authors),
        len(found.books),
    )
