"""`python -m app` refuses what an operator must fix in one line, and serves 503s through
what passes by itself until it has passed."""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from app.config import EXIT_CONFIG, Settings
from app.db.migrations import PROJECT_ROOT
from tests.conftest import SERVER_URL
from tests.faults.mounts import remount_read_only, tmpfs
from tests.helpers.databases import ScratchDatabase
from tests.helpers.server import HOST, ServerProcess, free_port

START_TIMEOUT = 60.0
ANSWER_TIMEOUT = 30.0


def start(**env: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m app` with these settings until it exits (a refusal) or times out."""
    settings = {"HOST": HOST, "PORT": str(free_port()), **env}
    return subprocess.run(
        [sys.executable, "-m", "app"],
        cwd=PROJECT_ROOT,
        env={**os.environ, **settings},
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT,
        check=False,
    )


def assert_refused(result: subprocess.CompletedProcess[str], *words: str) -> None:
    """Exit EX_CONFIG, nothing on stdout, one line on stderr with `words` and no traceback."""
    assert result.returncode == EXIT_CONFIG, result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0]


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"PORT": "abc"}, ("PORT=abc", "valid integer")),
        ({"POOL_SIZE": "0"}, ("POOL_SIZE=0", "greater than or equal to 1")),
        ({"BUSY_TIMEOUT_MS": "-1"}, ("BUSY_TIMEOUT_MS=-1",)),
        ({"DATABASE_URL": "not a url"}, ("DATABASE_URL is not a database URL", "sqlite+")),
        ({"DATABASE_URL": "mysql://folio@db/folio"}, ("DATABASE_URL uses mysql://", "postgresql+")),
        ({"DATABASE_URL": "sqlite:///folio.db"}, ("DATABASE_URL uses sqlite://",)),
        ({"DATABASE_URL": "sqlite+aiosqlite://"}, ("names no SQLite file",)),
    ],
    ids=["port", "pool-size", "busy-timeout", "url", "scheme", "sync-driver", "memory"],
)
def test_a_bad_setting_is_refused_in_one_line(env: dict[str, str], words: tuple[str]) -> None:
    assert_refused(start(**env), *words)


@pytest.mark.sqlite
def test_a_missing_directory_is_refused(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "folio.db"
    result = start(DATABASE_URL=sqlite_url(missing))
    assert_refused(result, str(missing.parent), "does not exist", "create the directory")
    assert not missing.parent.exists()


@pytest.mark.sqlite
@pytest.mark.parametrize("exists", [False, True], ids=["no-file", "empty-file"])
def test_a_file_never_migrated_is_refused(tmp_path: Path, exists: bool) -> None:
    path = tmp_path / "folio.db"
    if exists:
        path.touch()
    result = start(DATABASE_URL=sqlite_url(path))
    assert_refused(result, "make migrate")
    assert path.exists() == exists  # a check creates nothing


@pytest.mark.sqlite
def test_a_read_only_directory_is_refused(template: ScratchDatabase, tmp_path: Path) -> None:
    assert template.path is not None
    with tmpfs(tmp_path / "disk", "4m") as disk:
        shutil.copy(template.path, disk / "folio.db")
        remount_read_only(disk)
        result = start(DATABASE_URL=sqlite_url(disk / "folio.db"))
    assert_refused(result, "read-only", "writable")


@pytest.mark.postgres
def test_a_postgres_database_that_does_not_exist_is_refused() -> None:
    assert SERVER_URL is not None
    name = f"folio_missing_{uuid.uuid4().hex[:8]}"
    url = make_url(SERVER_URL).set(database=name).render_as_string(False)
    assert_refused(start(DATABASE_URL=url), repr(name), "does not exist", "create it")


@pytest.mark.parametrize(
    ("revision", "words"),
    [
        ("df5cc3852f0d", ("behind this code's newest migration", "make migrate")),
        ("ffffffffffff", ("newer than this code", "alembic downgrade")),
    ],
    ids=["behind", "newer"],
)
async def test_a_schema_at_another_migration_is_refused(
    fresh_database: Callable[[], Settings], revision: str, words: tuple[str]
) -> None:
    settings = fresh_database()
    engine = create_async_engine(settings.database_url)
    async with engine.begin() as connection:
        await connection.execute(
            text("UPDATE alembic_version SET version_num = :v"), {"v": revision}
        )
    await engine.dispose()
    assert_refused(start(DATABASE_URL=settings.database_url), revision, *words)


def wait_answering(server: ServerProcess) -> None:
    """Wait until the server answers HTTP at all, whatever the status."""
    deadline = time.monotonic() + ANSWER_TIMEOUT
    while time.monotonic() < deadline:
        assert server.running(), server.log_text()
        try:
            httpx.get(f"{server.url}/health/live", timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"the server did not answer:\n{server.log_text()}")


@contextmanager
def launched(server: ServerProcess) -> Iterator[httpx.Client]:
    server.launch()
    try:
        wait_answering(server)
        with httpx.Client(base_url=server.url, timeout=10) as client:
            yield client
    finally:
        server.stop()


def assert_retry_later(answer: httpx.Response, words: str) -> None:
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["retry-after"] == "1"
    assert words in answer.json()["detail"]


def test_a_postgres_server_not_answering_yet_is_served_as_503s(tmp_path: Path) -> None:
    # Nothing listens on a free port: as a server that is still starting.
    url = f"postgresql+asyncpg://folio@{HOST}:{free_port()}/folio"
    server = ServerProcess(url, tmp_path / "server.log")
    with launched(server) as client:
        for _ in range(3):
            assert_retry_later(client.get("/health/ready"), "cannot be reached")
            assert_retry_later(client.get("/authors"), "cannot be reached")
    log = server.log_text()
    assert "Traceback" not in log
    assert log.count("database unavailable: unreachable") == 1, log


@pytest.mark.sqlite
def test_a_lock_at_start_is_served_as_503s_until_it_is_released(
    template: ScratchDatabase, tmp_path: Path
) -> None:
    assert template.path is not None
    path = Path(shutil.copy(template.path, tmp_path / "folio.db"))
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    # Open: no key can be made while the lock is held, and the lock is what is tested here.
    server = ServerProcess(
        sqlite_url(path), tmp_path / "server.log", BUSY_TIMEOUT_MS="100", AUTH_MODE="open"
    )
    try:
        with launched(server) as client:
            assert_retry_later(client.get("/health/ready"), "busy")
            assert_retry_later(client.post("/authors", json={"name": "Waits"}), "busy")
            assert client.get("/authors").status_code == 200  # reads go on in WAL mode
            holder.execute("ROLLBACK")
            server.wait_ready()
            assert client.post("/authors", json={"name": "Stored"}).status_code == 201
    finally:
        holder.close()
    log = server.log_text()
    assert "Traceback" not in log
    assert log.count("database unavailable: busy") == 1, log
    assert log.count("database available again") == 1, log


def test_a_refusal_is_one_json_line_when_json_is_asked_for() -> None:
    result = start(LOG_FORMAT="json", POOL_SIZE="0")
    assert result.returncode == EXIT_CONFIG, result.stderr
    [line] = result.stderr.splitlines()
    refusal = json.loads(line)
    assert refusal["level"] == "ERROR"
    assert refusal["message"].startswith("folio cannot start: POOL_SIZE=0 is not valid")


def test_a_database_not_ready_yet_is_said_in_json_when_json_is_asked_for(tmp_path: Path) -> None:
    url = f"postgresql+asyncpg://folio@{HOST}:{free_port()}/folio"
    server = ServerProcess(url, tmp_path / "server.log", LOG_FORMAT="json")
    with launched(server) as client:
        assert_retry_later(client.get("/health/ready"), "cannot be reached")
    lines = [json.loads(line) for line in server.log_text().splitlines()]
    messages = [line["message"] for line in lines]
    assert any(message.startswith("database not ready") for message in messages), messages
