"""A full or read-only disk under a serving SQLite database: 503s, readiness says why, no harm."""

import logging
import secrets
import shutil
from pathlib import Path

import httpx
import pytest

from app.config import Settings
from tests.faults.mounts import fill, remount_read_only, tmpfs
from tests.helpers.databases import ScratchDatabase
from tests.helpers.server import integrity_check, running_server
from tests.helpers.serving import serving

pytestmark = pytest.mark.sqlite

MAX_WRITES = 400


def assert_retry_later(answer: httpx.Response, word: str) -> None:
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert int(answer.headers["retry-after"]) >= 1
    assert word in answer.json()["detail"]


def test_a_full_disk_is_a_503_readiness_reports_it_and_the_file_stays_sound(
    template: ScratchDatabase, tmp_path: Path
) -> None:
    assert template.path is not None
    with tmpfs(tmp_path / "disk", "8m") as disk:
        database = disk / "folio.db"
        shutil.copy(template.path, database)
        log = tmp_path / "server.log"
        with (
            running_server(f"sqlite+aiosqlite:///{database}", log) as server,
            httpx.Client(base_url=server.url, headers=server.headers, timeout=10) as client,
        ):
            kept = client.post("/authors", json={"name": "Kept"})
            assert kept.status_code == 201
            fill(disk / "filler", leave=256 * 1024)

            for number in range(MAX_WRITES):
                bio = secrets.token_hex(2500)
                answer = client.post("/authors", json={"name": f"Filler {number}", "bio": bio})
                if answer.status_code != 201:
                    break
            assert_retry_later(answer, "disk is full")
            assert_retry_later(client.get("/health/ready"), "disk is full")
            removal = client.delete(f"/authors/{kept.json()['id']}")
            assert removal.status_code in (204, 503), removal.text
            if removal.status_code == 503:
                assert_retry_later(removal, "disk is full")
            assert client.get("/authors").status_code == 200

            (disk / "filler").unlink()
            assert client.get("/health/ready").status_code == 200
            assert client.post("/authors", json={"name": "After"}).status_code == 201
        assert integrity_check(database) == ["ok"]
    text = log.read_text()
    assert "Traceback" not in text
    assert text.count("database unavailable: disk_full") == 1, text
    assert text.count("database available again") == 1, text


async def test_a_read_only_disk_is_a_503_for_writes_and_readiness_says_so(
    template: ScratchDatabase, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert template.path is not None
    with tmpfs(tmp_path / "disk", "8m") as disk:
        database = disk / "folio.db"
        shutil.copy(template.path, database)
        remount_read_only(disk)
        settings = Settings(database_url=f"sqlite+aiosqlite:///{database}")
        async with serving(settings) as (client, _):
            for _ in range(3):
                assert_retry_later(await client.post("/authors", json={"name": "No"}), "")
                assert_retry_later(await client.get("/health/ready"), "read-only")
        # SQLite cannot open a WAL file read-only with no -shm beside it; a copy it can.
        assert integrity_check(Path(shutil.copy(database, tmp_path / "after.db"))) == ["ok"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len([w for w in warnings if "database unavailable: read_only" in w]) == 1, warnings
