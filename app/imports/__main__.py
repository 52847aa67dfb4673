"""Import a file of books from the command line: `python -m app.imports FILE` (`make import`).

The file is stored and run exactly as `POST /imports` would store and run it, by a runner in
this process (or by a server's, if one claims it first), with a progress bar on a terminal.
"""

import argparse
import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import get_args

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from app.config import get_settings
from app.db.engine import create_database
from app.imports.repository import ImportRepository
from app.imports.runner import ImportRunner
from app.imports.schemas import Format, ImportRead, OnDuplicate
from app.models import Import
from app.models.import_chunk import CHUNK_BYTES

SUFFIXES: dict[str, Format] = {".csv": "csv", ".ndjson": "ndjson", ".jsonl": "ndjson"}
WAIT_SECONDS = 0.5


def say(text: str) -> None:
    """A line for the operator, on stderr, apart from the output."""
    sys.stderr.write(text + "\n")


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m app.imports",
        description="Import books from a CSV or NDJSON file into DATABASE_URL, in batches.",
    )
    parser.add_argument("file", type=Path, help="the file to import (.csv, .ndjson or .jsonl)")
    parser.add_argument("--format", choices=get_args(Format), help="default: from the suffix")
    parser.add_argument(
        "--on-duplicate",
        choices=get_args(OnDuplicate),
        default="fail",
        help="what a row whose ISBN is already known does (default: fail)",
    )
    parser.add_argument("--dry-run", action="store_true", help="check every row, write no book")
    return parser.parse_args(argv)


async def file_chunks(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as file:
        while data := file.read(CHUNK_BYTES):
            yield data


class Report:
    """Progress as a bar on a terminal, as one plain line a batch otherwise."""

    def __init__(self) -> None:
        self.bar: Progress | None = None
        self.task: TaskID | None = None
        if sys.stderr.isatty():
            self.bar = Progress(
                TextColumn("importing"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[failed]} failed"),
                TimeElapsedColumn(),
            )
            self.bar.start()

    def __call__(self, job: Import) -> None:
        if self.bar is None:
            total = "?" if job.rows_total is None else job.rows_total
            say(f"{job.rows_processed}/{total} rows, {job.rows_failed} failed")
            return
        if self.task is None:
            self.task = self.bar.add_task("import", total=job.rows_total, failed=0)
        self.bar.update(self.task, completed=job.rows_processed, failed=job.rows_failed)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


async def run(options: argparse.Namespace) -> int:
    settings = get_settings()
    path: Path = options.file
    file_format = options.format or SUFFIXES.get(path.suffix.lower())
    if file_format is None:
        say(f"{path}: say --format csv or --format ndjson")
        return 2
    if not path.is_file():
        say(f"{path}: no such file")
        return 2
    size = path.stat().st_size
    if size > settings.max_import_bytes:
        say(f"{path}: {size} bytes, over MAX_IMPORT_BYTES ({settings.max_import_bytes})")
        return 2
    database = create_database(settings)
    report = Report()
    try:
        job = Import(
            format=file_format,
            on_duplicate=options.on_duplicate,
            dry_run=options.dry_run,
            size_bytes=size,
        )
        async with database.writes() as session, session.begin():
            await ImportRepository(session).create(job, file_chunks(path))
        say(f"import {job.id} queued")
        await ImportRunner(database, settings).run_next(job.id, report)
        while True:  # a server's runner may have claimed it first
            async with database.reads() as session, session.begin():
                found = await ImportRepository(session).get(job.id)
            assert found is not None
            if found.finished:
                break
            report(found)
            await asyncio.sleep(WAIT_SECONDS)
    finally:
        report.close()
        await database.dispose()
    sys.stdout.write(ImportRead.of(found).model_dump_json(indent=2) + "\n")
    return 0 if found.status == "succeeded" else 1


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(run(arguments(argv)))


if __name__ == "__main__":
    sys.exit(main())
