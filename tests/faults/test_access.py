"""Keys across real server processes: revocation holds at once everywhere, and no secret
is left in a log line, a problem body or the database."""

import asyncio
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.config import Settings
from app.db.engine import is_sqlite
from app.db.migrations import PROJECT_ROOT
from app.keys.secrets import new_key
from bench.server import make_key
from tests.helpers.server import ServerProcess, running_server, sqlite_file

# A revocation reaches every other process within this (the contract's second), counted from
# the revocation's answer; the slack is the time one request takes on a loaded machine.
REVOCATION_SECONDS = 1.0
REQUEST_SLACK_SECONDS = 0.25


def test_a_key_revoked_in_one_process_is_refused_by_every_other_within_a_second(
    fresh_database: Callable[[], Settings], tmp_path: Path
) -> None:
    url = fresh_database().database_url
    # Two servers, one of them with three workers: the key is kept in four processes.
    # The refusals after the revocation are failed authentications: not limited here.
    servers = [
        ServerProcess(url, tmp_path / "one.log", AUTH_FAILURES_PER_MINUTE="0"),
        ServerProcess(url, tmp_path / "other.log", WORKERS="3", AUTH_FAILURES_PER_MINUTE="0"),
    ]
    try:
        first, second = (server.start() for server in servers)
        with (
            httpx.Client(base_url=first.url, headers=first.headers) as one,
            httpx.Client(base_url=second.url) as other,
        ):
            created = one.post("/api-keys", json={"name": "roaming", "scope": "write"}).json()
            headers = {"Authorization": f"Bearer {created['key']}"}
            for n in range(12):  # every worker keeps the key
                made = other.post("/authors", json={"name": f"A{n}"}, headers=headers)
                assert made.status_code == 201
            assert one.get("/tags", headers=headers).status_code == 200
            assert one.delete(f"/api-keys/{created['id']}").status_code == 204
            revoked = time.monotonic()
            # The process that answered refuses it at once.
            assert one.get("/tags", headers=headers).status_code == 401
            late = []
            while time.monotonic() - revoked < REVOCATION_SECONDS + 0.5:
                answer = other.post("/authors", json={"name": "Late"}, headers=headers)
                if answer.status_code != 401:
                    assert answer.status_code == 201, answer.text
                    late.append(time.monotonic() - revoked)
            assert all(at < REVOCATION_SECONDS + REQUEST_SLACK_SECONDS for at in late), late
            refused = other.post("/authors", json={"name": "B"}, headers=headers)
            assert refused.status_code == 401
            assert refused.headers["www-authenticate"] == "Bearer"
            assert other.get("/authors", params={"name": "B"}).json()["meta"]["total"] == 0
    finally:
        for server in servers:
            server.stop()


def database_text(url: str) -> bytes:
    """Everything the database holds, as bytes to search: the SQLite files, or every row."""
    if is_sqlite(url):
        path = sqlite_file(url)
        files = [path, path.with_name(path.name + "-wal")]
        return b"".join(file.read_bytes() for file in files if file.exists())

    async def rows() -> bytes:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as connection:
                found = []
                for table in ("api_key", "idempotency_key", "author"):
                    result = await connection.execute(text(f"SELECT t::text FROM {table} t"))
                    found += [row[0] for row in result]
                return "\n".join(found).encode()
        finally:
            await engine.dispose()

    return asyncio.run(rows())


def test_no_secret_reaches_the_log_the_problems_the_metrics_or_the_database(
    fresh_database: Callable[[], Settings], tmp_path: Path
) -> None:
    url = fresh_database().database_url
    log = tmp_path / "server.log"
    made_by_cli = make_key(url, "read", "scanner")
    guessed = new_key()
    answers = []
    # SQL_ECHO logs every statement with its parameters: the strictest case for the log.
    with running_server(url, log, SQL_ECHO="true") as server:
        with httpx.Client(base_url=server.url, headers=server.headers) as client:
            created = client.post("/api-keys", json={"name": "api", "scope": "write"}).json()
            secrets = [server.key, made_by_cli, created["key"], guessed]
            for key in secrets:
                headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": "scan"}
                answers.append(client.post("/authors", json={"name": "x"}, headers=headers))
                answers.append(client.get("/authors", headers={"Authorization": f"Bearer {key}"}))
            answers.append(client.get("/authors", headers={"Authorization": f"Bearer {guessed}x"}))
            answers.append(client.get("/api-keys"))
            assert client.delete(f"/api-keys/{created['id']}").status_code == 204
            answers.append(
                client.post(
                    "/authors",
                    json={"name": "y"},
                    headers={"Authorization": f"Bearer {created['key']}"},
                )
            )
            scrape = client.get("/metrics")
            assert scrape.status_code == 200
        server.terminate()
    assert {answer.status_code for answer in answers} >= {201, 200, 401, 403}
    haystacks = {
        "log": log.read_bytes(),
        "answers": b"".join(answer.content for answer in answers),
        "database": database_text(url),
        "metrics": scrape.content,
    }
    assert len(haystacks["log"]) > 1000  # statements were logged
    for name, haystack in haystacks.items():
        for secret in secrets:
            body = secret[len("folio_") :].encode()
            assert body not in haystack, f"a secret in the {name}"


def test_the_cli_refuses_bad_input_in_one_line(fresh_database: Callable[[], Settings]) -> None:
    url = fresh_database().database_url
    for arguments, needle in [
        (["--name", "x", "--scope", "root"], "scope"),
        (["--name", "x" * 10_000, "--scope", "read"], "200 characters"),
        (["--name", "x", "--scope", "read", "--expires-in-days", "-1"], "expires-in-days"),
        (["--name", "x", "--scope", "read", "--expires-in-days", "soon"], "expires-in-days"),
        (["--scope", "read"], "--name"),
    ]:
        run = subprocess.run(
            [sys.executable, "-m", "app.keys", "create", *arguments],
            cwd=PROJECT_ROOT,
            env={"DATABASE_URL": url, "PATH": ""},
            capture_output=True,
            text=True,
        )
        assert run.returncode != 0, arguments
        assert run.stdout == ""
        lines = run.stderr.strip().splitlines()
        assert len(lines) == 1, run.stderr
        # A mistake in the arguments also names the usage; one in a value names the rule.
        assert lines[0].startswith(("usage: python -m app.keys", "error: ")), lines
        assert "error: " in lines[0], lines
        assert needle in lines[0], lines
    made = subprocess.run(
        [
            sys.executable,
            "-m",
            "app.keys",
            "create",
            "--name",
            "ops",
            "--scope",
            "admin",
            "--expires-in-days",
            "30",
        ],
        cwd=PROJECT_ROOT,
        env={"DATABASE_URL": url, "PATH": ""},
        capture_output=True,
        text=True,
        check=True,
    )
    key = made.stdout.splitlines()[-1]
    assert key.startswith("folio_")
    assert key not in made.stderr


def test_open_mode_says_so_at_start(fresh_database: Callable[[], Settings], tmp_path: Path) -> None:
    url = fresh_database().database_url
    with running_server(url, tmp_path / "server.log", AUTH_MODE="open") as server:
        with httpx.Client(base_url=server.url) as client:
            assert client.post("/authors", json={"name": "Open"}).status_code == 201
        log = server.log_text()
    assert "AUTH_MODE=open" in log


def answers_from_forged_addresses(server: ServerProcess, headers: dict[str, str]) -> list[int]:
    """Statuses of eight GETs from loopback, each claiming another client address."""
    with httpx.Client(base_url=server.url) as client:
        return [
            client.get(
                "/tags", headers={"X-Forwarded-For": f"203.0.113.{n}", **headers}
            ).status_code
            for n in range(8)
        ]


def test_x_forwarded_for_counts_only_from_the_proxies_named(
    fresh_database: Callable[[], Settings], tmp_path: Path
) -> None:
    url = fresh_database().database_url
    limits = {"RATE_LIMIT_PER_MINUTE": "5", "AUTH_FAILURES_PER_MINUTE": "3"}
    bad_key = {"Authorization": f"Bearer {new_key()}"}
    with running_server(url, tmp_path / "default.log", **limits) as server:
        # One client, however many addresses it claims: its own limits apply, the request
        # limit, and once its keys have failed three times the lockout of all its requests.
        assert answers_from_forged_addresses(server, {}) == [200] * 5 + [429] * 3
    with running_server(url, tmp_path / "failures.log", **limits) as server:
        assert answers_from_forged_addresses(server, bad_key) == [401] * 3 + [429] * 5
        assert answers_from_forged_addresses(server, {}) == [429] * 8
    trusted = {**limits, "FORWARDED_ALLOW_IPS": "127.0.0.1"}
    with running_server(url, tmp_path / "proxied.log", **trusted) as server:
        # Behind a trusted proxy each forwarded address is a client of its own.
        assert answers_from_forged_addresses(server, {}) == [200] * 8
        assert answers_from_forged_addresses(server, bad_key) == [401] * 8
