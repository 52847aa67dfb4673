"""The HTTP edge, tried as an attacker would: raw bytes over a socket to a real server."""

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from app.config import Settings
from tests.helpers.server import HOST, ServerProcess

logger = logging.getLogger(__name__)

BIG = 50 * 1024 * 1024
CHUNK = 64 * 1024
MEMORY_SLACK_KIB = 20 * 1024  # a body held whole would add over 50 MiB


def uvicorn_command(server: ServerProcess, http: str) -> list[str]:
    """The app under uvicorn's own command line with the given HTTP implementation."""
    return [
        *server.command[:1],
        "-m",
        "uvicorn",
        "app.main:create_app",
        "--factory",
        "--http",
        http,
        "--host",
        HOST,
        "--port",
        str(server.port),
    ]


@pytest.fixture(params=["h11", "httptools"])
def server(
    request: pytest.FixtureRequest, fresh_database: Callable[[], Settings], tmp_path: Path
) -> Iterator[ServerProcess]:
    started = ServerProcess(fresh_database().database_url, tmp_path / "server.log")
    started.command = uvicorn_command(started, request.param)
    try:
        yield started.start()
    finally:
        started.stop()


def exchange(server: ServerProcess, payload: bytes, timeout: float = 10) -> tuple[bytes, bool]:
    """Send the bytes, read until the server closes or goes quiet; tell whether it closed."""
    with socket.create_connection((HOST, server.port), timeout=timeout) as connection:
        connection.sendall(payload)
        connection.settimeout(2)
        answer = b""
        try:
            while chunk := connection.recv(65536):
                answer += chunk
        except TimeoutError:
            return answer, False
    return answer, True


def authors_named(server: ServerProcess, name: str) -> int:
    with httpx.Client(base_url=server.url, headers=server.headers) as client:
        return int(client.get("/authors", params={"name": name}).json()["meta"]["total"])


@pytest.fixture(params=["h11", "httptools"])
def workers(
    request: pytest.FixtureRequest, fresh_database: Callable[[], Settings], tmp_path: Path
) -> Iterator[ServerProcess]:
    """The same, with two worker processes behind uvicorn's supervisor."""
    started = ServerProcess(fresh_database().database_url, tmp_path / "server.log")
    started.command = [*uvicorn_command(started, request.param), "--workers", "2"]
    try:
        yield started.start()
    finally:
        started.stop()


def test_the_edge_holds_with_several_worker_processes(workers: ServerProcess) -> None:
    test_a_request_with_both_lengths_is_refused_and_its_connection_closed(workers)
    test_a_trailing_slash_redirects_relatively_whatever_the_host(workers)


def test_a_request_with_both_lengths_is_refused_and_its_connection_closed(
    server: ServerProcess,
) -> None:
    hidden = (
        b"POST /authors HTTP/1.1\r\nHost: folio\r\nContent-Type: application/json\r\n"
        + f"Authorization: Bearer {server.key}\r\n".encode()
        + b'Content-Length: 19\r\n\r\n{"name":"Smuggled"}'
    )
    body = b"0\r\n\r\n" + hidden
    outer = (
        b"POST /authors HTTP/1.1\r\nHost: folio\r\nContent-Type: application/json\r\n"
        + f"Authorization: Bearer {server.key}\r\n".encode()
        + b"Transfer-Encoding: chunked\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    answer, closed = exchange(server, outer)
    # Refused by Folio (a problem) or, for some spellings, by the HTTP parser before it.
    assert answer.startswith(b"HTTP/1.1 400 "), answer
    assert answer.count(b"HTTP/1.1 ") == 1, answer
    assert closed
    assert authors_named(server, "Smuggled") == 0


def test_a_trailing_slash_redirects_relatively_whatever_the_host(server: ServerProcess) -> None:
    for path, location in [
        ("/authors/?q=a", "/authors?q=a"),
        ("//evil.example/", "/evil.example"),
        ("/\\evil.example/", "/%5Cevil.example"),
    ]:
        request = f"GET {path} HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n"
        answer, _closed = exchange(server, request.encode())
        head = answer.split(b"\r\n\r\n")[0].decode().lower().splitlines()
        assert head[0].startswith("http/1.1 307"), head
        assert f"location: {location.lower()}" in head, head
        assert not any("evil.example" in line and "//" in line for line in head[1:]), head


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def send_chunked(server: ServerProcess, answers: list[bytes]) -> None:
    """POST 50 MB in chunks for as long as the server reads them; keep its answer."""
    head = (
        b"POST /authors HTTP/1.1\r\nHost: folio\r\nContent-Type: application/json\r\n"
        + f"Authorization: Bearer {server.key}\r\n".encode()
        + b"Transfer-Encoding: chunked\r\n\r\n"
    )
    chunk = f"{CHUNK:x}\r\n".encode() + b" " * CHUNK + b"\r\n"
    with socket.create_connection((HOST, server.port), timeout=30) as connection:
        try:
            connection.sendall(head)
            for _ in range(BIG // CHUNK):
                connection.sendall(chunk)
            connection.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # refused mid-body: the server stopped reading, as it should
        answer = b""
        try:
            while part := connection.recv(65536):
                answer += part
        except OSError:
            pass
        answers.append(answer)


def test_a_50_mb_body_is_refused_while_reading_and_memory_stays_flat(
    server: ServerProcess,
) -> None:
    before = rss_kib(server.pid)
    declared = (
        b"POST /authors HTTP/1.1\r\nHost: folio\r\nContent-Type: application/json\r\n"
        + f"Authorization: Bearer {server.key}\r\nContent-Length: {BIG}\r\n\r\n".encode()
    )
    answer, closed = exchange(server, declared)
    assert answer.startswith(b"HTTP/1.1 413 "), answer
    assert b"application/problem+json" in answer
    assert closed

    answers: list[bytes] = []
    senders = [threading.Thread(target=send_chunked, args=(server, answers)) for _ in range(4)]
    for sender in senders:
        sender.start()
    peak = before
    while any(sender.is_alive() for sender in senders):
        peak = max(peak, rss_kib(server.pid))
        time.sleep(0.01)
    for sender in senders:
        sender.join()
    assert len(answers) == 4
    assert all(answer.startswith(b"HTTP/1.1 413 ") for answer in answers), answers
    assert peak - before < MEMORY_SLACK_KIB, (before, peak)
    logger.info("50 MB bodies x4: RSS %d KiB before, peak %d KiB", before, peak)
    with httpx.Client(base_url=server.url, headers=server.headers) as client:
        assert client.get("/authors").json()["meta"]["total"] == 0
        assert client.post("/authors", json={"name": "After"}).status_code == 201
