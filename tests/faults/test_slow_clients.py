"""Clients that never finish their headers, more of them than the server may open files:
the server keeps answering, closes them when their time is up, and its log stays small."""

import logging
import socket
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from app.config import Settings
from app.edge.process import accept_backlog
from tests.helpers.server import HOST, ServerProcess

logger = logging.getLogger(__name__)

DESCRIPTOR_LIMIT = 1024
HALF_OPEN = 1100
# Long enough for the connections to be made before the first are closed.
HEADER_TIMEOUT = 8.0
PROBE_SECONDS = 1.0
LOG_GROWTH_BYTES = 50_000
# Runs a module as `python -m` would, with soft and hard limits of argv[1] open files.
LIMITED = (
    "import resource, runpy, sys; "
    "limit = int(sys.argv[1]); "
    "resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit)); "
    "sys.argv = sys.argv[2:]; "
    "runpy.run_module(sys.argv[0], run_name='__main__', alter_sys=True)"
)


def limited_command(server: ServerProcess, http: str) -> list[str]:
    """The server under the descriptor limit: `python -m app` (httptools), or uvicorn's own
    command line with Folio's h11 protocol."""
    if http == "httptools":
        module = ["app"]
    else:
        module = [
            "uvicorn",
            "app.main:create_served_app",
            "--factory",
            "--http",
            "app.edge.connections:FolioH11Protocol",
            "--backlog",
            str(accept_backlog(DESCRIPTOR_LIMIT)),
            "--host",
            HOST,
            "--port",
            str(server.port),
        ]
    return [sys.executable, "-c", LIMITED, str(DESCRIPTOR_LIMIT), *module]


@pytest.fixture(params=["httptools", "h11"])
def server(
    request: pytest.FixtureRequest, fresh_database: Callable[[], Settings], tmp_path: Path
) -> Iterator[ServerProcess]:
    started = ServerProcess(
        fresh_database().database_url,
        tmp_path / "server.log",
        HEADER_TIMEOUT_SECONDS=str(HEADER_TIMEOUT),
        IMPORT_RUNNER="false",
    )
    started.command = limited_command(started, request.param)
    try:
        yield started.start()
    finally:
        started.stop()


def half_open(server: ServerProcess) -> socket.socket:
    """A connection whose request headers never end."""
    connection = socket.create_connection((HOST, server.port), timeout=10)
    connection.sendall(b"GET /health/live HTTP/1.1\r\nHost: folio\r\n")
    return connection


def probe(server: ServerProcess) -> int:
    """The status of GET /health/live on a new connection, or 0 if no answer comes within
    PROBE_SECONDS."""
    try:
        with socket.create_connection((HOST, server.port), timeout=PROBE_SECONDS) as connection:
            connection.sendall(
                b"GET /health/live HTTP/1.1\r\nHost: folio\r\nConnection: close\r\n\r\n"
            )
            head = connection.recv(64)
    except OSError:
        return 0
    return int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/1.1 ") else 0


def closed_by_the_server(connection: socket.socket, answers: list[bytes] | None = None) -> bool:
    """Whether the server has closed the connection (after an answer, or without one); what
    it answered goes to `answers`."""
    connection.setblocking(False)
    received = b""
    try:
        while chunk := connection.recv(65536):
            received += chunk
    except BlockingIOError:
        return False
    except OSError:
        pass
    finally:
        if received and answers is not None:
            answers.append(received)
    return True


def test_half_open_connections_past_the_descriptor_limit_leave_the_server_answering(
    server: ServerProcess,
) -> None:
    log_before = server.log.stat().st_size
    started = time.monotonic()
    connections = [half_open(server) for _ in range(HALF_OPEN)]
    opened = time.monotonic()
    logger.info("%d half-open connections made in %.1f s", HALF_OPEN, opened - started)
    try:
        # At once an answer, if only a 503: the server is not stuck on its descriptor limit.
        assert probe(server) in (200, 503)
        assert time.monotonic() - opened < 2 * PROBE_SECONDS
        # Each is closed once its headers are late (those over the cap at once, with a 503).
        deadline = opened + HEADER_TIMEOUT + 5
        still_open, answers = connections, list[bytes]()
        while still_open := [e for e in still_open if not closed_by_the_server(e, answers)]:
            assert time.monotonic() < deadline, f"{len(still_open)} still open"
            time.sleep(0.2)
        logger.info(
            "all closed %.1f s after the last was made, %d of them with a 503",
            time.monotonic() - opened,
            len(answers),
        )
        # Those over the cap were told so: a 503 problem, with Retry-After.
        assert answers
        for answer in answers:
            assert answer.startswith(b"HTTP/1.1 503 "), answer
            assert b"content-type: application/problem+json" in answer.lower(), answer
            assert b"retry-after: 1" in answer.lower(), answer
            assert b'"instance":"/health/live"' in answer, answer
        assert probe(server) == 200
    finally:
        for connection in connections:
            connection.close()
    growth = server.log.stat().st_size - log_before
    logger.info("the log grew by %d bytes", growth)
    assert growth < LOG_GROWTH_BYTES


def test_a_trickle_of_header_bytes_is_cut_off_but_a_stream_is_not(server: ServerProcess) -> None:
    with httpx.Client(base_url=server.url, headers=server.headers) as client:
        queued = client.post(
            "/imports", content=b"title,author\nT,A\n", headers={"Content-Type": "text/csv"}
        )
        assert queued.status_code == 202
    stream = socket.create_connection((HOST, server.port), timeout=10)
    stream.sendall(
        f"GET /imports/{queued.json()['id']}/events HTTP/1.1\r\nHost: folio\r\n"
        "Accept: text/event-stream\r\n\r\n".encode()
    )
    assert stream.recv(4096).startswith(b"HTTP/1.1 200 ")
    trickle = socket.create_connection((HOST, server.port), timeout=10)
    started = time.monotonic()
    try:
        for byte in b"GET /health/live HTTP/1.1\r\nHost: folio\r\n":
            trickle.sendall(bytes([byte]))
            time.sleep(0.25)
            if closed_by_the_server(trickle):
                break
            trickle.setblocking(True)
        cut_after = time.monotonic() - started
        assert HEADER_TIMEOUT - 0.5 <= cut_after <= HEADER_TIMEOUT + 1.5, cut_after
        # The stream's headers were complete: it stays open past the header timeout.
        assert not closed_by_the_server(stream)
    finally:
        trickle.close()
        stream.close()
