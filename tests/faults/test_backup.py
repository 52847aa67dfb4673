"""`make backup`: a sound copy taken under write load, that restores."""

import asyncio
import logging
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from app.commands.backup import BackupError, backup, default_target
from app.config import Settings
from app.db.migrations import PROJECT_ROOT
from tests.faults.workload import Writer, list_all, wait_until
from tests.helpers.server import integrity_check, running_server

logger = logging.getLogger(__name__)

CLIENTS = 8
ACKNOWLEDGED_BEFORE_BACKUP = 40
TABLES = ("author", "book", "tag", "book_tag")

sqlite_only = pytest.mark.sqlite


def row_counts(path: Path) -> dict[str, int]:
    connection = sqlite3.connect(path)
    try:
        return {
            table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in TABLES
        }
    finally:
        connection.close()


def run_backup(database_url: str, target: Path) -> subprocess.CompletedProcess[str]:
    """The command `make backup BACKUP=<target>` runs."""
    return subprocess.run(
        [sys.executable, "-m", "app.commands.backup", str(target)],
        cwd=PROJECT_ROOT,
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@sqlite_only
async def test_a_backup_taken_under_write_load_is_sound_and_restores(
    fresh_database: Callable[[], Settings], tmp_path: Path
) -> None:
    settings = fresh_database()
    target = tmp_path / "backups" / "folio-backup.db"
    with running_server(settings.database_url, tmp_path / "server.log") as server:
        clients = [
            httpx.AsyncClient(base_url=server.url, headers=server.headers, timeout=30)
            for _ in range(CLIENTS)
        ]
        writers = [Writer(n, http, deletes=True, reads=False) for n, http in enumerate(clients)]
        stop = time.monotonic() + 60
        load = asyncio.gather(*(writer.run(stop, 10_000) for writer in writers))
        try:
            await wait_until(
                lambda: sum(w.acknowledged.total() for w in writers) >= ACKNOWLEDGED_BEFORE_BACKUP,
                30,
                "writes before the backup",
            )
            before = sum(w.acknowledged.total() for w in writers)
            # In a thread, so that the load goes on in this event loop while the backup runs.
            done = await asyncio.to_thread(run_backup, settings.database_url, target)
            during = sum(w.acknowledged.total() for w in writers) - before
        finally:
            for writer in writers:
                writer.stop()
            await asyncio.wait_for(load, timeout=30)
            await asyncio.gather(*(http.aclose() for http in clients))
    assert done.returncode == 0, done.stderr
    assert [failure for writer in writers for failure in writer.failures] == []

    assert integrity_check(target) == ["ok"]
    assert not target.with_name(target.name + "-wal").exists()
    counts = row_counts(target)
    assert counts["author"] > 0
    assert counts["book"] > 0

    # Restore: serve the copy as the database, as an operator would.
    with running_server(f"sqlite+aiosqlite:///{target}", tmp_path / "restored.log") as restored:
        async with httpx.AsyncClient(
            base_url=restored.url, headers=restored.headers, timeout=30
        ) as http:
            served = {
                "author": len(await list_all(http, "/authors")),
                "book": len(await list_all(http, "/books")),
                "tag": len(await list_all(http, "/tags")),
            }
            books = await list_all(http, "/books")
            served["book_tag"] = sum(len(book["tags"]) for book in books)
            created = await http.post("/authors", json={"name": "After the restore"})
            assert created.status_code == 201, created.text
    logger.info(
        "backup: taken after %d writes while %d more were acknowledged; holds %s",
        before,
        during,
        counts,
    )
    assert served == counts


def test_backup_refuses_other_databases_and_existing_files(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="pg_dump"):
        backup("postgresql+asyncpg://folio@127.0.0.1/folio", tmp_path / "copy.db")
    with pytest.raises(BackupError, match="does not exist"):
        backup(f"sqlite+aiosqlite:///{tmp_path / 'missing.db'}", tmp_path / "copy.db")
    existing = tmp_path / "existing.db"
    sqlite3.connect(existing).close()
    (tmp_path / "taken.db").write_bytes(b"")
    with pytest.raises(BackupError, match="already exists"):
        backup(f"sqlite+aiosqlite:///{existing}", tmp_path / "taken.db")


def test_the_default_backup_file_is_named_by_the_time_in_data() -> None:
    when = datetime(2026, 11, 23, 16, 5, 9, tzinfo=UTC)
    assert default_target(when) == Path("data/backup-20261123T160509Z.db")
