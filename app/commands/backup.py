"""Copy the SQLite database while the server runs: `make backup` (`python -m app.commands.backup`).

`VACUUM INTO` reads the whole database inside one read transaction, so the copy is a snapshot of
what was committed when it began, whatever writers do meanwhile (in WAL mode they are not even
held up). The copy is a single compacted file with no -wal beside it, ready to serve or restore.
"""

import argparse
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from app.commands.progress import Progress
from app.db.checks import check_start

BUSY_TIMEOUT_SECONDS = 30
# SQLite virtual-machine steps between two looks at the copy's size.
PROGRESS_STEPS = 100_000


class BackupError(Exception):
    """A backup that cannot be made; the message says why."""


def default_target(now: datetime | None = None) -> Path:
    """`data/backup-<UTC timestamp>.db`."""
    return Path("data") / f"backup-{(now or datetime.now(UTC)):%Y%m%dT%H%M%SZ}.db"


def sqlite_path(database_url: str) -> Path:
    """The file a SQLite URL names; refuses other databases."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        raise BackupError(
            f"make backup copies SQLite databases; {url.get_backend_name()} is backed up with "
            "its own tools, e.g. `pg_dump --format=custom` for PostgreSQL."
        )
    if not url.database or url.database == ":memory:":
        raise BackupError("DATABASE_URL names no database file.")
    path = Path(url.database)
    if not path.is_file():
        raise BackupError(f"{path} does not exist.")
    return path


def backup(database_url: str, target: Path, *, show_progress: bool = False) -> Path:
    """Write a consistent copy of the database at `database_url` to `target` (a new file)."""
    source = sqlite_path(database_url)
    if target.exists():
        raise BackupError(f"{target} already exists; choose another BACKUP path.")
    target.parent.mkdir(parents=True, exist_ok=True)
    if show_progress:
        # The copy is compacted, so it ends somewhat below the source's size.
        kib = sum(path.stat().st_size for path in (source, wal_of(source)) if path.exists())
        with Progress("backing up", kib // 1024, "KiB") as progress:
            return vacuum_into(source, target, progress)
    return vacuum_into(source, target, None)


def wal_of(source: Path) -> Path:
    return source.with_name(source.name + "-wal")


def vacuum_into(source: Path, target: Path, progress: Progress | None) -> Path:
    """Run `VACUUM INTO`, counting the KiB written so far as it goes."""
    connection = sqlite3.connect(source, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
    if progress is not None:

        def count_written() -> int:
            if target.exists():
                progress.advance(target.stat().st_size // 1024 - progress.done)
            return 0  # go on

        connection.set_progress_handler(count_written, PROGRESS_STEPS)
    try:
        connection.execute("VACUUM INTO ?", (str(target),))
        if progress is not None:
            count_written()
    finally:
        connection.close()
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.commands.backup", description=__doc__)
    parser.add_argument("target", nargs="?", type=Path, help="default: data/backup-<time>.db")
    arguments = parser.parse_args(argv)
    settings = check_start("backup", serving=False, database=False)
    target = arguments.target or default_target()
    try:
        backup(settings.database_url, target, show_progress=True)
    except (BackupError, sqlite3.Error) as exc:
        sys.stderr.write(f"backup failed: {exc}\n")
        return 1
    sys.stdout.write(f"backed up to {target}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
