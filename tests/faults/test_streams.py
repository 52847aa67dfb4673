"""Event streams against a real server: clients that vanish mid-stream leave the pool's
count where it was."""

import asyncio
import random
import re
import socket
import struct
from collections.abc import Callable
from pathlib import Path

import httpx

from app.config import Settings
from tests.helpers.server import HOST, ServerProcess, running_server

CHECKED_OUT = re.compile(r'^folio_db_connections_checked_out\{pool="(\w+)"\} (\S+)$', re.M)
SETTLE_SECONDS = 10.0


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
