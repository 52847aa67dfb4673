"""SIGTERM: requests in flight still get their answers, then the WAL is checkpointed and emptied."""

import json
import logging
import socket
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from app.config import Settings
from tests.helpers.server import HOST, ServerProcess, integrity_check, sqlite_file

logger = logging.getLogger(__name__)

WRITES_BEFORE = 20
HOLD_AFTER_SIGTERM = 0.5  # seconds the in-flight writes are kept waiting after the signal


def send_request(
    server: ServerProcess, method: str, path: str, body: dict[str, object]
) -> socket.socket:
    """Send a whole request on a new connection and leave its answer to be read later."""
    payload = json.dumps(body).encode()
    connection = socket.create_connection((HOST, server.port), timeout=10)
    connection.sendall(
        f"{method} {path} HTTP/1.1\r\nHost: folio\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {server.key}\r\n"
        f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode()
        + payload
    )
    return connection


def read_status(connection: socket.socket) -> int:
    """The status code of the answer on a connection the server closes after answering."""
    answer = b""
    with connection:
        while chunk := connection.recv(65536):
            answer += chunk
    return int(answer.split(b" ", 2)[1])


@pytest.mark.sqlite
def test_sigterm_lets_in_flight_requests_finish_then_checkpoints_the_wal(
    fresh_database: Callable[[], Settings], tmp_path: Path
) -> None:
    settings = fresh_database()
    path = sqlite_file(settings.database_url)
    wal = path.with_name(path.name + "-wal")
    # Room for the in-flight writes to wait out the held lock, however slow the machine.
    server = ServerProcess(settings.database_url, tmp_path / "server.log", BUSY_TIMEOUT_MS="20000")
    server.start()
    # Another process with the database open: closing the server's connections is then not
    # the last close, which would checkpoint and delete the WAL by itself. Only an explicit
    # checkpoint can empty it.
    other = sqlite3.connect(path, isolation_level=None, timeout=10)
    try:
        with httpx.Client(base_url=server.url, headers=server.headers, timeout=10) as http:
            author = http.post("/authors", json={"name": "Before"}).json()
            for n in range(WRITES_BEFORE):
                assert http.post("/authors", json={"name": f"Before {n}"}).status_code == 201
            assert wal.stat().st_size > 0
            other.execute("SELECT count(*) FROM author").fetchall()

            # Hold the write lock, so the next writes are in flight inside the server.
            other.execute("BEGIN IMMEDIATE")
            in_flight = [
                send_request(server, "POST", "/authors", {"name": "In flight"}),
                send_request(server, "PATCH", f"/authors/{author['id']}", {"bio": "late"}),
            ]
            # Connections accepted after ours have been served, so ours have been read too.
            assert http.get("/health/live").status_code == 200

        server.send_sigterm()
        signalled = time.monotonic()
        time.sleep(HOLD_AFTER_SIGTERM)
        assert server.running()  # waiting for the requests, not gone without answering them
        other.execute("ROLLBACK")

        statuses = [read_status(connection) for connection in in_flight]
        code = server.wait_exit(timeout=5)
        seconds = time.monotonic() - signalled
        wal_size = wal.stat().st_size if wal.exists() else None
    finally:
        server.stop()
        other.close()

    logger.info(
        "shutdown: in-flight answers %s, exit %d after %.2f s, WAL %s bytes",
        statuses,
        code,
        seconds,
        wal_size,
    )
    assert statuses == [201, 200]
    assert code == 0
    assert seconds < 5
    assert wal_size in (None, 0)
    assert integrity_check(path) == ["ok"]
    check = sqlite3.connect(path)
    try:
        stored = check.execute("SELECT bio FROM author WHERE name IN ('In flight', 'Before')")
        assert sorted(row[0] or "" for row in stored) == ["", "late"]
    finally:
        check.close()
