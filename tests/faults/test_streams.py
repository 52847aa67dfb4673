"""Event streams against a real server: idle streams cost the database the same however many
are open, the caps refuse streams with problems, and clients that vanish mid-stream leave the
pool's count where it was."""

import asyncio
import logging
import random
import re
import socket
import struct
from collections.abc import Callable
from pathlib import Path

import httpx

from app.config import Settings
from tests.helpers.server import HOST, ServerProcess, problems_in_log, running_server

logger = logging.getLogger(__name__)

CHECKED_OUT = re.compile(r'^folio_db_connections_checked_out\{pool="(\w+)"\} (\S+)$', re.M)
SETTLE_SECONDS = 10.0
WINDOW_SECONDS = 3.0
# The watcher looks twice a second: one statement a look while no import has news.
MOST_STATEMENTS = int(WINDOW_SECONDS / 0.5) + 2
EVENT_STATEMENT = "FROM import_event"


class Stream:
    """One event stream over a raw connection, from a client address of its own when the
    server trusts loopback's X-Forwarded-For."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.head = b""

    @classmethod
    async def open(cls, port: int, import_id: str, address: str | None = None) -> "Stream":
        reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), timeout=10)
        stream = cls(reader, writer)
        forwarded = f"X-Forwarded-For: {address}\r\n" if address else ""
        request = stream_request(import_id).replace(b"\r\n\r\n", f"\r\n{forwarded}\r\n".encode())
        writer.write(request)
        await writer.drain()
        stream.head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=30)
        if stream.status == 200:  # the import's past: its `queued` event
            await asyncio.wait_for(reader.readuntil(b"event: queued"), timeout=30)
        return stream

    @property
    def status(self) -> int:
        return int(self.head.split(b" ", 2)[1])

    async def problem(self) -> bytes:
        """The body of a refusal (its length is given)."""
        length = int(re.search(rb"content-length: (\d+)", self.head.lower())[1])  # type: ignore[index]
        return await asyncio.wait_for(self.reader.readexactly(length), timeout=10)

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


def event_statements(server: ServerProcess, start: int) -> int:
    """How many statements on the event table the server logged since byte `start`."""
    with server.log.open("rb") as log:
        log.seek(start)
        return log.read().decode(errors="replace").count(EVENT_STATEMENT)


async def statements_in_a_window(server: ServerProcess) -> int:
    start = server.log.stat().st_size
    await asyncio.sleep(WINDOW_SECONDS)
    return event_statements(server, start)


async def test_idle_streams_cost_the_same_few_statements_however_many_are_open(
    fresh_database: Callable[[], Settings], tmp_path: Path
) -> None:
    url = fresh_database().database_url
    env = {
        "IMPORT_RUNNER": "false",
        "SQL_ECHO": "true",
        "MAX_EVENT_STREAMS": "1000",
        "MAX_EVENT_STREAMS_PER_CLIENT": "1000",
    }
    with running_server(url, tmp_path / "server.log", **env) as server:
        async with httpx.AsyncClient(base_url=server.url, headers=server.headers) as http:
            imports = [await queued_import(http) for _ in range(3)]
        few = [await Stream.open(server.port, imports[n % 3]) for n in range(10)]
        with_few = await statements_in_a_window(server)
        many = await asyncio.gather(*(Stream.open(server.port, imports[n % 3]) for n in range(300)))
        with_many = await statements_in_a_window(server)
        for stream in [*few, *many]:
            await stream.close()
    logger.info(
        "event-table statements in %.0f s: %d with 10 streams, %d with 310",
        WINDOW_SECONDS,
        with_few,
        with_many,
    )
    assert 1 <= with_few <= MOST_STATEMENTS, with_few
    assert 1 <= with_many <= MOST_STATEMENTS, with_many


async def test_streams_past_their_caps_are_refused_with_problems(
    fresh_database: Callable[[], Settings], tmp_path: Path
) -> None:
    url = fresh_database().database_url
    env = {
        "IMPORT_RUNNER": "false",
        "MAX_EVENT_STREAMS": "5",
        "MAX_EVENT_STREAMS_PER_CLIENT": "3",
        "FORWARDED_ALLOW_IPS": "127.0.0.1",
    }
    with running_server(url, tmp_path / "server.log", **env) as server:
        async with httpx.AsyncClient(base_url=server.url, headers=server.headers) as http:
            import_id = await queued_import(http)
        first = [await Stream.open(server.port, import_id, "198.51.100.1") for _ in range(3)]
        assert [stream.status for stream in first] == [200] * 3
        over_client = await Stream.open(server.port, import_id, "198.51.100.1")
        assert over_client.status == 429
        assert b"retry-after:" in over_client.head.lower()
        assert b"application/problem+json" in over_client.head
        assert b'"status":429' in await over_client.problem()
        second = [await Stream.open(server.port, import_id, "198.51.100.2") for _ in range(2)]
        assert [stream.status for stream in second] == [200] * 2
        over_all = await Stream.open(server.port, import_id, "198.51.100.3")
        assert over_all.status == 503
        assert b"retry-after:" in over_all.head.lower()
        assert b'"status":503' in await over_all.problem()
        # A stream that ends gives its place back.
        await first[0].close()
        deadline = asyncio.get_running_loop().time() + SETTLE_SECONDS
        while (again := await Stream.open(server.port, import_id, "198.51.100.1")).status != 200:
            assert asyncio.get_running_loop().time() < deadline
            await again.close()
            await asyncio.sleep(0.05)
        for stream in [*first[1:], *second, again, over_client, over_all]:
            await stream.close()


def stream_request(import_id: str) -> bytes:
    return (
        f"GET /imports/{import_id}/events HTTP/1.1\r\nHost: folio\r\n"
        "Accept: text/event-stream\r\n\r\n"
    ).encode()


async def vanish_mid_stream(port: int, import_id: str, rng: random.Random) -> None:
    """Open a stream, read its first bytes, then go away at a random moment, half of the
    time with a TCP RST rather than a FIN."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), timeout=10)
    if rng.random() < 0.5:
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.write(stream_request(import_id))
    await writer.drain()
    await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=30)
    await asyncio.sleep(rng.uniform(0, 1.5))
    writer.close()
    await writer.wait_closed()


def checked_out(metrics: str) -> dict[str, float]:
    return {pool: float(value) for pool, value in CHECKED_OUT.findall(metrics)}


async def queued_import(http: httpx.AsyncClient) -> str:
    """An import that stays queued (the server runs none), so its stream never ends."""
    answer = await http.post(
        "/imports", content=b"title,author\nT,A\n", headers={"Content-Type": "text/csv"}
    )
    assert answer.status_code == 202, answer.text
    import_id: str = answer.json()["id"]
    return import_id


async def test_stream_clients_that_vanish_leave_the_pool_gauges_at_zero(
    fresh_database: Callable[[], Settings], tmp_path: Path
) -> None:
    url = fresh_database().database_url
    with running_server(url, tmp_path / "server.log", IMPORT_RUNNER="false") as server:
        await vanishing_rounds(server)
        log = server.log_text()
    # No database work is cut short by a client going away (it was, in each stream's task).
    assert problems_in_log(log) == []
    assert "Task was destroyed" not in log


async def vanishing_rounds(server: ServerProcess) -> None:
    rng = random.Random(10)
    async with httpx.AsyncClient(base_url=server.url, headers=server.headers, timeout=30) as http:
        import_id = await queued_import(http)
        seen: list[dict[str, float]] = []
        for _ in range(4):
            await asyncio.gather(
                *(vanish_mid_stream(server.port, import_id, rng) for _ in range(150)),
                *(scrape(http, seen) for _ in range(5)),
            )
        # Settled: every stream is gone, so every connection is back in its pool.
        deadline = asyncio.get_running_loop().time() + SETTLE_SECONDS
        while True:
            await scrape(http, seen)
            if all(value == 0 for value in seen[-1].values()):
                break
            assert asyncio.get_running_loop().time() < deadline, seen[-1]
            await asyncio.sleep(0.1)
    assert seen[-1], "no pool gauge in /metrics"
    assert all(value >= 0 for values in seen for value in values.values()), seen


async def scrape(http: httpx.AsyncClient, seen: list[dict[str, float]]) -> None:
    await asyncio.sleep(0.3)
    answer = await http.get("/metrics")
    assert answer.status_code == 200
    seen.append(checked_out(answer.text))
