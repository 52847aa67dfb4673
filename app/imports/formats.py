"""The file formats of imports and exports, one object each, found by name, media type or
file suffix: how a file's records are split, which columns it names, what a row holds, and
how books are written back in it.

    CSV     text/csv              a header line, RFC 4180 quoting; tags as one `|`-separated cell
    NDJSON  application/x-ndjson  one JSON object a line
"""

import csv
import io
import json
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, get_args

from app.imports.reader import RowError, Unreadable
from app.kit.quoting import quoted_list
from app.models.import_job import FormatName

COLUMNS = (
    "title",
    "author",
    "author_id",
    "authors",
    "author_ids",
    "isbn",
    "published_year",
    "description",
    "tags",
    "publisher",
    "language",
    "series",
    "series_position",
)
# Fields whose values are lists: one cell of `|`-separated values in CSV.
LISTS = ("authors", "author_ids", "tags")
# A spreadsheet writes the year 2008 as "2008.0"; any other fraction is not a year.
WHOLE_NUMBER = re.compile(r"^[+-]?\d+(\.0*)?$")
# A place in a series as a CSV cell writes it: 2, 1.5.
DECIMAL = re.compile(r"^[+-]?\d+(\.\d+)?$")
TAG_SEPARATOR = "|"


@dataclass(frozen=True)
class FileFormat(ABC):
    """What every format says of itself; the methods are each format's own."""

    name: FormatName
    media_type: str
    suffixes: tuple[str, ...]
    # Whether records may span lines (quoted cells), and whether the first one names columns.
    quoted: bool
    has_header: bool

    def columns(self, _header: str) -> list[str]:
        """The columns a header names; Unreadable unless books can be imported by them."""
        raise Unreadable(f"A {self.name} file has no header.")

    @abstractmethod
    def row(self, columns: list[str] | None, text: str) -> dict[str, Any]:
        """A record as the fields of a book; RowError if it cannot be one."""

    @abstractmethod
    def header(self) -> str:
        """What an export writes before its rows."""

    @abstractmethod
    def rows(self, books: Iterable[dict[str, Any]]) -> str:
        """Books (their import fields) as the text of a file in this format."""

    @property
    def export_media_type(self) -> str:
        """What an export is sent as: text in UTF-8 says so."""
        if self.media_type.startswith("text/"):
            return f"{self.media_type}; charset=utf-8"
        return self.media_type


def csv_cells(text: str) -> list[str]:
    try:
        return next(csv.reader([text]), [])
    except csv.Error as exc:
        raise Unreadable(f"Not CSV: {exc}.") from None


class CsvFormat(FileFormat):
    def columns(self, header: str) -> list[str]:
        columns = [name.strip().lower() for name in csv_cells(header)]
        unknown = [name for name in columns if name not in COLUMNS]
        if unknown:
            raise Unreadable(
                f"Unknown columns {quoted_list(unknown)}; known: {', '.join(COLUMNS)}."
            )
        if len(set(columns)) != len(columns):
            raise Unreadable("A column is named twice in the header.")
        if "title" not in columns:
            raise Unreadable("The header has no `title` column.")
        if not {"author", "author_id", "authors", "author_ids"} & set(columns):
            raise Unreadable(
                "The header names no author column: authors, author_ids, author or author_id."
            )
        return columns

    def row(self, columns: list[str] | None, text: str) -> dict[str, Any]:
        """An empty cell is an absent value."""
        assert columns is not None
        cells = csv_cells(text)
        if len(cells) != len(columns):
            raise RowError(
                None, f"The row has {len(cells)} cells; the header has {len(columns)}.", "csv_cells"
            )
        row: dict[str, Any] = {}
        for name, cell in zip(columns, cells, strict=True):
            if not cell.strip():
                continue
            if name in LISTS:
                row[name] = [value for value in cell.split(TAG_SEPARATOR) if value.strip()]
            elif name == "published_year" and WHOLE_NUMBER.match(cell.strip()):
                row[name] = int(float(cell)) if "." in cell else int(cell)
            elif name == "series_position" and DECIMAL.match(cell.strip()):
                row[name] = float(cell)
            else:
                row[name] = cell
        return row

    def header(self) -> str:
        return ",".join(COLUMNS) + "\r\n"

    def rows(self, books: Iterable[dict[str, Any]]) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        for book in books:
            cells = {**book, **{name: TAG_SEPARATOR.join(book[name]) for name in LISTS}}
            writer.writerow(["" if cells[name] is None else cells[name] for name in COLUMNS])
        return out.getvalue()


class NdjsonFormat(FileFormat):
    def row(self, _columns: list[str] | None, text: str) -> dict[str, Any]:
        try:
            row = json.loads(text)
        except (ValueError, RecursionError):
            raise RowError(None, "The line is not valid JSON.", "json_invalid") from None
        if not isinstance(row, dict):
            raise RowError(None, "The line is not a JSON object.", "object_type")
        return row

    def header(self) -> str:
        return ""

    def rows(self, books: Iterable[dict[str, Any]]) -> str:
        return "".join(json.dumps(book, ensure_ascii=False) + "\n" for book in books)


CSV = CsvFormat("csv", "text/csv", (".csv",), quoted=True, has_header=True)
NDJSON = NdjsonFormat(
    "ndjson", "application/x-ndjson", (".ndjson", ".jsonl"), quoted=False, has_header=False
)
FORMATS: dict[FormatName, FileFormat] = {"csv": CSV, "ndjson": NDJSON}
assert set(FORMATS) == set(get_args(FormatName)), "every format name has its object"


def by_name(name: str) -> FileFormat:
    """The format of this name, as an import stores it."""
    for found in FORMATS.values():
        if found.name == name:
            return found
    raise ValueError(f"no format is named {name!r}")


def by_media_type(media_type: str) -> FileFormat | None:
    """The format sent as this media type (no parameters), if any."""
    return next((found for found in FORMATS.values() if found.media_type == media_type), None)


def by_suffix(suffix: str) -> FileFormat | None:
    """The format of a file with this suffix (`.csv`), if any."""
    return next((found for found in FORMATS.values() if suffix.lower() in found.suffixes), None)
