"""Books written in the import format: NDJSON objects or CSV rows with the same columns."""

import csv
import io
import json
from collections.abc import Iterable
from typing import Any

from app.books.schemas import BookRead
from app.imports.reader import COLUMNS

MEDIA_TYPES = {"ndjson": "application/x-ndjson", "csv": "text/csv; charset=utf-8"}


def exported(book: BookRead) -> dict[str, Any]:
    return {
        "title": book.title,
        "author": book.author.name,
        "author_id": str(book.author_id),
        "isbn": book.isbn,
        "published_year": book.published_year,
        "description": book.description,
        "tags": book.tags,
    }


def header(file_format: str) -> str:
    return ",".join(COLUMNS) + "\r\n" if file_format == "csv" else ""


def lines(file_format: str, books: Iterable[BookRead]) -> str:
    """The books as the text of a file in this format."""
    if file_format == "ndjson":
        return "".join(json.dumps(exported(book), ensure_ascii=False) + "\n" for book in books)
    out = io.StringIO()
    writer = csv.writer(out)
    for book in books:
        row = exported(book)
        row["tags"] = "|".join(book.tags)
        writer.writerow(["" if row[name] is None else row[name] for name in COLUMNS])
    return out.getvalue()
