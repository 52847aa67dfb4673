"""Imports survive SIGKILL, and on PostgreSQL several servers never run one import at once."""

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.config import Settings
from tests.helpers.server import ServerProcess

ROWS = 10_000
# Small batches, so that the kill lands between many commits and inside one.
BATCH_ROWS = "100"
LEASE_SECONDS = "2"


def isbn13(n: int) -> str:
    digits = f"979{n:09d}"
    check = (10 - sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits)) % 10) % 10
    return f"{digits}{check}"


def rows_body(prefix: str, count: int, series: int = 0) -> bytes:
    """NDJSON rows with distinct titles and ISBNs, `series` keeping ISBNs apart across files."""
    rows = (
        {
            "title": f"{prefix} {n:06d}",
            "author": f"{prefix} author {n % 50}",
            "isbn": isbn13(series * 100_000 + n),
            "tags": [f"t{n % 7}"],
        }
        for n in range(count)
    )
    return "".join(json.dumps(row) + "\n" for row in rows).encode()


async def wait_for(
    http: httpx.AsyncClient, import_id: str, done: Callable[[dict[str, Any]], bool], timeout: float
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = (await http.get(f"/imports/{import_id}")).json()
        if done(job):
            return job
        assert time.monotonic() < deadline, f"import not there in {timeout} s: {job}"
        await asyncio.sleep(0.02)


async def events_of(http: httpx.AsyncClient, import_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor: str | None = ""
    while cursor is not None:
        page = (
            await http.get(
                f"/imports/{import_id}/events", params={"per_page": 100, "cursor": cursor}
            )
        ).json()
        found += page["items"]
        cursor = page["meta"]["next_cursor"]
    return found


async def titles(http: httpx.AsyncClient, q: str) -> list[str]:
    found: list[str] = []
    cursor: str | None = ""
    while cursor is not None:
        page = (
            await http.get(
                "/books", params={"q": q, "per_page": 100, "cursor": cursor, "count": "none"}
            )
        ).json()
        found += [book["title"] for book in page["items"]]
        cursor = page["meta"]["next_cursor"]
    return found


def check_batches(events: list[dict[str, Any]], rows: int) -> list[str]:
    """Each batch once: progress moves forward only, and one runner at a time holds the import."""
    progress = [event["detail"] for event in events if event["type"] == "progress"]
    lines = [detail["line"] for detail in progress]
    assert lines == sorted(set(lines)), "a batch was committed twice"
    assert progress[-1]["rows_processed"] == rows
    owner = None
    for event in events:
        if event["type"] in ("started", "resumed"):
            owner = event["detail"]["runner"]
        elif event["type"] == "progress":
            assert event["detail"]["runner"] == owner, "a runner wrote without holding the import"
    return [
        event["detail"]["runner"] for event in events if event["type"] in ("started", "resumed")
    ]


async def test_sigkill_mid_import_then_restart_applies_every_row_once(
    fresh_database: Callable[[], Settings], tmp_path: Path
) -> None:
    settings = fresh_database()
    env = {
        "IMPORT_BATCH_ROWS": BATCH_ROWS,
        "IMPORT_LEASE_SECONDS": LEASE_SECONDS,
        "IMPORT_POLL_SECONDS": "0.2",
    }
    log = tmp_path / "server.log"
    server = ServerProcess(settings.database_url, log, **env).start()
    try:
        async with httpx.AsyncClient(
            base_url=server.url, headers=server.headers, timeout=30
        ) as http:
            response = await http.post(
                "/imports",
                content=rows_body("Crash", ROWS),
                headers={"Content-Type": "application/x-ndjson"},
            )
            assert response.status_code == 202, response.text
            import_id = response.json()["id"]
            before = await wait_for(http, import_id, lambda job: job["rows_processed"] >= 1000, 120)
        server.kill()
    finally:
        server.stop()
    assert before["status"] == "running"
    assert before["rows_processed"] < ROWS

    restarted = ServerProcess(settings.database_url, log, **env).start()
    try:
        async with httpx.AsyncClient(
            base_url=restarted.url, headers=restarted.headers, timeout=30
        ) as http:
            job = await wait_for(http, import_id, lambda job: job["finished_at"] is not None, 300)
            assert job["status"] == "succeeded"
            assert job["rows_total"] == job["rows_processed"] == job["rows_created"] == ROWS
            assert job["rows_failed"] == job["rows_skipped"] == job["rows_updated"] == 0
            events = await events_of(http, import_id)
            assert "resumed" in [event["type"] for event in events]
            assert len(set(check_batches(events, ROWS))) == 2
            found = await titles(http, "Crash ")
            assert len(found) == len(set(found)) == ROWS
            assert (await http.get("/authors", params={"q": "Crash author"})).json()["meta"][
                "total"
            ] == 50
    finally:
        restarted.stop()


@pytest.mark.postgres
async def test_several_servers_share_imports_and_never_run_one_twice(
    fresh_database: Callable[[], Settings], tmp_path: Path
) -> None:
    settings = fresh_database()
    env = {
        "IMPORT_BATCH_ROWS": BATCH_ROWS,
        "IMPORT_LEASE_SECONDS": "5",
        "IMPORT_POLL_SECONDS": "0.1",
    }
    servers = [
        ServerProcess(settings.database_url, tmp_path / f"server{n}.log", **env).start()
        for n in range(3)
    ]
    imports = 4
    per_import = 2000
    try:
        clients = [
            httpx.AsyncClient(base_url=server.url, headers=server.headers, timeout=30)
            for server in servers
        ]
        ids = []
        for n in range(imports):
            http = clients[n % len(clients)]
            response = await http.post(
                "/imports",
                content=rows_body(f"Multi{n}", per_import, n),
                headers={"Content-Type": "application/x-ndjson"},
            )
            assert response.status_code == 202, response.text
            ids.append(response.json()["id"])
        runners = set()
        for import_id in ids:
            job = await wait_for(
                clients[0], import_id, lambda job: job["finished_at"] is not None, 300
            )
            assert job["status"] == "succeeded"
            assert job["rows_processed"] == job["rows_created"] == per_import
            runners.update(check_batches(await events_of(clients[0], import_id), per_import))
        assert len(runners) >= 2, "one server ran every import"
        for n in range(imports):
            found = await titles(clients[1], f"Multi{n} ")
            assert len(found) == len(set(found)) == per_import
        await asyncio.gather(*(http.aclose() for http in clients))
    finally:
        for server in servers:
            server.stop()


async def test_api_writes_go_through_while_an_import_runs(
    fresh_database: Callable[[], Settings], tmp_path: Path
) -> None:
    settings = fresh_database()
    server = ServerProcess(settings.database_url, tmp_path / "server.log").start()
    try:
        async with httpx.AsyncClient(
            base_url=server.url, headers=server.headers, timeout=30
        ) as http:
            response = await http.post(
                "/imports",
                content=rows_body("Busy", ROWS),
                headers={"Content-Type": "application/x-ndjson"},
            )
            import_id = response.json()["id"]
            await wait_for(http, import_id, lambda job: job["rows_processed"] > 0, 120)
            statuses = []
            during = 0
            for n in range(30):
                created = await http.post("/authors", json={"name": f"Writer {n}"})
                statuses.append(created.status_code)
                job = (await http.get(f"/imports/{import_id}")).json()
                during += job["status"] == "running"
            assert statuses == [201] * 30
            assert during > 0, "the import ended before the writes began"
            job = await wait_for(http, import_id, lambda job: job["finished_at"] is not None, 300)
            assert job["rows_created"] == ROWS
    finally:
        server.stop()
