"""Export books from the command line: `python -m app.exports` (`make export`).

The same filters, sort and formats as `GET /exports/books`, written to a file or stdout.
"""

import argparse
import asyncio
import sys
from pathlib import Path
from typing import IO

from pydantic import ValidationError

from app.books.schemas import BookFilters
from app.commands.progress import say
from app.config import Settings
from app.db.checks import check_start
from app.db.engine import create_database
from app.exports.schemas import ExportQuery
from app.exports.stream import export_text
from app.imports.formats import FORMATS


def arguments(argv: list[str] | None) -> argparse.Namespace:
    """The command's options: a format, an output, and `GET /books`'s sort and filters."""
    parser = argparse.ArgumentParser(
        prog="python -m app.exports",
        description="Export the books of DATABASE_URL in the import format.",
    )
    parser.add_argument("--format", choices=list(FORMATS), default="ndjson")
    parser.add_argument("--output", "-o", type=Path, help="a file to write (default: stdout)")
    parser.add_argument("--sort", help="as GET /books takes it, e.g. -published_year,title")
    for name, field in BookFilters.model_fields.items():
        parser.add_argument(f"--{name.replace('_', '-')}", help=field.description)
    return parser.parse_args(argv)


async def write(query: ExportQuery, out: IO[str], settings: Settings) -> None:
    database = create_database(settings)
    try:
        async for text in export_text(database, query):
            out.write(text)
    finally:
        await database.dispose()


def main(argv: list[str] | None = None) -> int:
    options = vars(arguments(argv))
    output: Path | None = options.pop("output")
    try:
        query = ExportQuery.model_validate(
            {name: value for name, value in options.items() if value is not None}
        )
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            where = ".".join(str(part) for part in error["loc"]) or "arguments"
            say(f"{where}: {error['msg']}")
        return 2
    settings = check_start("export", serving=False)
    if output is None:
        asyncio.run(write(query, sys.stdout, settings))
    else:
        with output.open("w", encoding="utf-8", newline="") as file:
            asyncio.run(write(query, file, settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
