"""Export books from the command line: `python -m app.exports` (`make export`).

The same filters, sort and formats as `GET /exports/books`, written to a file or stdout.
"""

import argparse
import asyncio
import sys
from pathlib import Path
from typing import IO, get_args

from pydantic import ValidationError

from app.config import get_settings
from app.db.engine import create_database
from app.exports.schemas import ExportFormat, ExportQuery
from app.exports.stream import export_text


def say(text: str) -> None:
    """A line for the operator, on stderr, apart from the output."""
    sys.stderr.write(text + "\n")


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m app.exports",
        description="Export the books of DATABASE_URL in the import format.",
    )
    parser.add_argument("--format", choices=get_args(ExportFormat), default="ndjson")
    parser.add_argument("--output", "-o", type=Path, help="a file to write (default: stdout)")
    parser.add_argument("--sort", help="as GET /books takes it, e.g. -published_year,title")
    parser.add_argument("--author-id", help="books by this author")
    parser.add_argument("--tag", help="books carrying this tag")
    parser.add_argument("--isbn", help="the book with this ISBN")
    parser.add_argument("--year-from", type=int, help="published in or after this year")
    parser.add_argument("--year-to", type=int, help="published in or before this year")
    parser.add_argument("--q", help="part of the title, any case")
    return parser.parse_args(argv)


async def write(query: ExportQuery, out: IO[str]) -> None:
    database = create_database(get_settings())
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
    if output is None:
        asyncio.run(write(query, sys.stdout))
    else:
        with output.open("w", encoding="utf-8", newline="") as file:
            asyncio.run(write(query, file))
    return 0


if __name__ == "__main__":
    sys.exit(main())
