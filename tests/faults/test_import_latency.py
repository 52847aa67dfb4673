"""An import never holds the event loop: `/health/live` answers quickly all through the upload
and the import of a file made to be slow to read and to apply."""

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from app.config import Settings
from tests.faults import latency_probe
from tests.helpers.server import HOST, ServerProcess

# A quoted cell this many lines long (a byte each), in a column the import skips.
CELL_LINES = 100_000
# Then this many rows, each with a long description whose search text takes milliseconds.
ROWS = 1_000
DESCRIPTION = " ".join(f"Émile{n} Zoë" for n in range(400))
# The slowest answer of /health/live tolerated from the upload to the end of the import.
WORST_LATENCY_SECONDS = 0.25


def hostile_csv() -> bytes:
    cell = "\n" * CELL_LINES
    rows = "".join(f'Title {n},Author {n % 97},,1999.0,"{DESCRIPTION}",\n' for n in range(ROWS))
    header = "title,author,isbn,published_year,description,notes\n"
    return f'{header}Long,A,,,,"a{cell}"\n{rows}'.encode()


async def test_health_answers_quickly_while_a_slow_file_is_uploaded_and_imported(
    fresh_database: Callable[[], Settings], tmp_path: Path
) -> None:
    settings = fresh_database()
    server = ServerProcess(settings.database_url, tmp_path / "server.log").start()
    try:
        async with httpx.AsyncClient(
            base_url=server.url, headers=server.headers, timeout=60
        ) as http:
            await http.get("/health/live")  # the first answer of a route builds its handler
            body = hostile_csv()
            probe = subprocess.Popen(
                [sys.executable, latency_probe.__file__, HOST, str(server.port)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            response = await http.post(
                "/imports",
                content=body,
                headers={"Content-Type": "text/csv"},
                params={"unknown_columns": "ignore"},
            )
            assert response.status_code == 202, response.text
            import_id = response.json()["id"]
            deadline = time.monotonic() + 300
            while (job := (await http.get(f"/imports/{import_id}")).json())["finished_at"] is None:
                assert time.monotonic() < deadline, job
                await asyncio.sleep(0.05)
            measured = json.loads(probe.communicate(timeout=30)[0])
        assert probe.returncode == 0
        assert measured["answers"] > 100, measured
        worst = measured["worst"]
        assert job["status"] == "succeeded", job
        assert job["rows_created"] == ROWS + 1, job
        assert job["ignored_columns"] == ["notes"]
        assert worst < WORST_LATENCY_SECONDS, f"/health/live took {worst:.3f} s during the import"
    finally:
        server.stop()
