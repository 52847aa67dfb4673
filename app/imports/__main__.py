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

from pydantic import ValidationError

from app.commands.progress import Progress, say
from app.config import Settings
from app.db.checks import check_start
from app.db.engine import create_database
from app.imports.charsets import CHARSET_NAMES, charset_named
from app.imports.formats import FORMATS, by_name, by_suffix
from app.imports.repository import ImportRepository
from app.imports.runner import ImportRunner
from app.imports.schemas import ImportOptions, ImportRead, OnDuplicate
from app.imports.upload import spooled
from app.models import Import
from app.models.import_chunk import CHUNK_BYTES
from app.models.import_job import Delimiter, UnknownColumns

WAIT_SECONDS = 0.5


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m app.imports",
        description="Import books from a CSV or NDJSON file into DATABASE_URL, in batches.",
    )
    suffixes = ", ".join(suffix for found in FORMATS.values() for suffix in found.suffixes)
    parser.add_argument("file", type=Path, help=f"the file to import ({suffixes})")
    parser.add_argument("--format", choices=list(FORMATS), help="default: from the suffix")
    parser.add_argument(
        "--on-duplicate",
        choices=get_args(OnDuplicate),
        default="fail",
        help="what a row whose book is already known (by ISBN, or by title, authors and year) does "
        "(default: fail)",
    )
    parser.add_argument("--dry-run", action="store_true", help="check every row, write no book")
    parser.add_argument(
        "--columns",
        help="read the file's own columns or keys as Folio's fields: field:column,... "
        "(e.g. title:original_title,authors:writers)",
    )
    parser.add_argument(
        "--unknown-columns",
        choices=get_args(UnknownColumns),
        default="error",
        help="what a column that is neither a field nor mapped does (default: error)",
    )
    parser.add_argument(
        "--delimiter",
        choices=get_args(Delimiter),
        help="CSV: the character between cells (default: found from the header)",
    )
    parser.add_argument(
        "--author-separator",
        help="CSV: what separates several names in an authors cell (default: |), and in an "
        "author cell when given",
    )
    parser.add_argument(
        "--charset", default="utf-8", help=f"the file's encoding (default: utf-8): {CHARSET_NAMES}"
    )
    return parser.parse_args(argv)


def import_options(options: argparse.Namespace) -> ImportOptions | None:
    """The options as `POST /imports` takes them; None, once said why, if they are wrong."""
    try:
        return ImportOptions(
            on_duplicate=options.on_duplicate,
            dry_run=options.dry_run,
            columns=options.columns,
            unknown_columns=options.unknown_columns,
            delimiter=options.delimiter,
            author_separator=options.author_separator,
        )
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            say(f"--{str(error['loc'][0]).replace('_', '-')}: {error['msg']}")
        return None


async def file_chunks(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as file:
        while data := file.read(CHUNK_BYTES):
            yield data


def shown(progress: Progress, job: Import) -> None:
    progress.update(job.rows_processed, job.rows_total, f"{job.rows_failed} failed")


async def run(options: argparse.Namespace, settings: Settings) -> int:
    path: Path = options.file
    file_format = by_name(options.format) if options.format else by_suffix(path.suffix)
    if file_format is None:
        say(f"{path}: say --format {' or --format '.join(FORMATS)}")
        return 2
    if not path.is_file():
        say(f"{path}: no such file")
        return 2
    size = path.stat().st_size
    if size > settings.max_import_bytes:
        say(f"{path}: {size} bytes, over MAX_IMPORT_BYTES ({settings.max_import_bytes})")
        return 2
    charset = charset_named(options.charset)
    if charset is None:
        say(f"--charset: Folio reads {CHARSET_NAMES}")
        return 2
    read_with = import_options(options)
    if read_with is None:
        return 2
    database = create_database(settings)
    try:
        with Progress("importing", None, "rows") as progress:
            limit = settings.max_import_bytes
            async with spooled(file_chunks(path), limit, file_format, charset) as upload:
                job = read_with.new_import(file_format.name, charset, upload.size)
                async with database.writes() as session, session.begin():
                    await ImportRepository(session).create(
                        job, upload.chunks(), upload.failure(job.id)
                    )
            say(f"import {job.id} queued")
            await ImportRunner(database, settings).run_next(job.id, lambda at: shown(progress, at))
            while True:  # a server's runner may have claimed it first
                async with database.reads() as session, session.begin():
                    found = await ImportRepository(session).get(job.id)
                assert found is not None
                shown(progress, found)
                if found.finished:
                    break
                await asyncio.sleep(WAIT_SECONDS)
    finally:
        await database.dispose()
    sys.stdout.write(ImportRead.of(found).model_dump_json(indent=2) + "\n")
    return 0 if found.status == "succeeded" else 1


def main(argv: list[str] | None = None) -> int:
    options = arguments(argv)
    return asyncio.run(run(options, check_start("import", serving=False)))


if __name__ == "__main__":
    sys.exit(main())
