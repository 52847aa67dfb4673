"""64 clients write at once to a running server: no 5xx, no lock error, nothing lost or made up."""

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx

from app.config import Settings
from tests.faults.workload import Writer, snapshot, verify
from tests.helpers.server import problems_in_log, running_server

logger = logging.getLogger(__name__)

CLIENTS = 64
LOAD_SECONDS = 4.0
# A slow machine goes on, a round of LOAD_SECONDS at a time, until the load has done each kind
# of request at least once, or for this long at most.
MAX_LOAD_SECONDS = 60.0
MAX_REQUESTS_PER_CLIENT = 80  # so a fast machine stays bounded too: at most 5,120 requests
KINDS = ("create", "patch", "delete", "read")


def done_each_kind(writers: list[Writer]) -> bool:
    acknowledged = sum((writer.acknowledged for writer in writers), Counter[str]())
    return all(acknowledged[kind] > 0 for kind in KINDS)


async def test_concurrent_clients_get_no_errors_and_the_database_holds_what_they_were_told(
    fresh_database: Callable[[], Settings], tmp_path: Path
) -> None:
    settings = fresh_database()
    with running_server(settings.database_url, tmp_path / "server.log") as server:
        limits = httpx.Limits(max_connections=1)
        clients = [
            httpx.AsyncClient(
                base_url=server.url, headers=server.headers, timeout=30, limits=limits
            )
            for _ in range(CLIENTS)
        ]
        writers = [
            Writer(number, http, deletes=True, reads=True) for number, http in enumerate(clients)
        ]
        started = time.monotonic()
        try:
            deadline = started + LOAD_SECONDS
            while True:
                await asyncio.gather(
                    *(writer.run(deadline, MAX_REQUESTS_PER_CLIENT) for writer in writers)
                )
                if done_each_kind(writers) or time.monotonic() - started > MAX_LOAD_SECONDS:
                    break
                deadline = time.monotonic() + LOAD_SECONDS
            elapsed = time.monotonic() - started
            async with httpx.AsyncClient(
                base_url=server.url, headers=server.headers, timeout=30
            ) as http:
                found = await snapshot(http)
        finally:
            await asyncio.gather(*(http.aclose() for http in clients))
        log = server.log_text()

    statuses = sum((writer.statuses for writer in writers), Counter[int]())
    acknowledged = sum((writer.acknowledged for writer in writers), Counter[str]())
    logger.info(
        "load: %d requests in %.1f s (%.0f/s), statuses %s, acknowledged %s, "
        "final rows: %d authors, %d books, %d tags",
        statuses.total(),
        elapsed,
        statuses.total() / elapsed,
        dict(statuses),
        dict(acknowledged),
        len(found.authors),
        len(found.books),
        len(found.tag_counts),
    )
    failures = [failure for writer in writers for failure in writer.failures]
    assert failures == [], failures[:10]
    assert [writer.pending for writer in writers if writer.pending] == []
    assert not [status for status in statuses if status >= 500]
    assert verify(writers, found) == []
    assert problems_in_log(log) == []
    # The load did each thing it is meant to (how often depends on the machine's speed).
    assert done_each_kind(writers), acknowledged
