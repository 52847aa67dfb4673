"""Folio's fields and how a file's own columns (CSV) or keys (NDJSON) are read as them: the
`columns` option, the fate of unknown columns, and the repairs of values as real files spell
them. Everything a file puts into a message or a field is cut to a bounded length here."""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.books.isbn import isbn10_is_valid
from app.imports.reader import Unreadable
from app.models.import_job import Delimiter, UnknownColumns

FIELDS = (
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
AUTHOR_FIELDS = ("author", "author_id", "authors", "author_ids")
DELIMITERS: dict[Delimiter, str] = {"comma": ",", "semicolon": ";", "tab": "\t"}
# What a file may make Folio repeat: at most this many names, each cut to this length.
MAX_NAMES_SHOWN = 50
MAX_NAME_CHARS = 100
MAX_COLUMNS_OPTION = 2000
# A number a spreadsheet wrote without its leading zeros: an ISBN-10 if zero-padding fixes it.
LOST_ZEROS = re.compile(r"\d{7,9}")


def shown(name: str, limit: int = MAX_NAME_CHARS) -> str:
    """A name from the file, cut to `limit` characters, NUL spelled out (PostgreSQL stores
    no NUL in text)."""
    name = name.replace("\x00", "\\x00")
    return name if len(name) <= limit else name[: limit - 1] + "…"


def listed(names: list[str], limit: int = 10) -> str:
    """Names for a message: quoted, cut, at most `limit` of them and how many more."""
    quoted = ", ".join(repr(shown(name, 40)) for name in names[:limit])
    return quoted + (f" and {len(names) - limit} more" if len(names) > limit else "")


def parse_columns(text: str) -> dict[str, str]:
    """`field:column,field:column` as {field: column}; ValueError saying what is wrong."""
    mapping: dict[str, str] = {}
    taken: dict[str, str] = {}
    for pair in text.split(","):
        name, colon, column = (part.strip() for part in pair.partition(":"))
        if not colon or not name or not column:
            raise ValueError(
                f"{shown(pair.strip(), 40)!r} is not field:column; "
                "send pairs separated by commas, e.g. title:original_title,author:writer"
            )
        if name not in FIELDS:
            raise ValueError(f"unknown field {shown(name, 40)!r}; fields: {', '.join(FIELDS)}")
        if name in mapping:
            raise ValueError(f"the field {name} is mapped twice")
        if column.casefold() in taken:
            raise ValueError(
                f"the column {shown(column, 40)!r} is mapped to both "
                f"{taken[column.casefold()]} and {name}"
            )
        mapping[name] = column
        taken[column.casefold()] = name
    return mapping


@dataclass(frozen=True)
class Reading:
    """How an import was asked to read its file: the options of `POST /imports`."""

    columns: dict[str, str] = field(default_factory=dict)  # field -> the file's column
    unknown_columns: UnknownColumns = "error"
    delimiter: Delimiter | None = None  # None: found from the header
    author_separator: str | None = None  # None: `authors` split at "|", `author` not split


@dataclass(frozen=True)
class Names:
    """Which field a column or key of the file is read as. A column named like a field is
    that field, unless `columns` maps the field to another column."""

    fields: dict[str, str]  # the file's name (as `fold` makes it) -> field
    fold: Callable[[str], str]  # how names compare: exactly (NDJSON) or ignoring case (CSV)

    @classmethod
    def of(cls, reading: Reading, fold: Callable[[str], str]) -> "Names":
        fields = {fold(column): name for name, column in reading.columns.items()}
        for name in FIELDS:
            if name not in reading.columns:
                fields.setdefault(fold(name), name)
        return cls(fields, fold)

    def field(self, name: str) -> str | None:
        return self.fields.get(self.fold(name))


@dataclass(frozen=True)
class Repair:
    """A value read otherwise than the file spelled it, as `GET /imports/{id}/warnings` shows."""

    loc: str
    msg: str
    type: str
    value: str  # as the file spelled it, cut

    def at(self, line: int) -> dict[str, Any]:
        return {"line": line, "loc": self.loc, "msg": self.msg, "type": self.type} | {
            "value": self.value
        }


@dataclass
class Parsed:
    """A record as Folio's fields (keys among FIELDS, or an unknown key to refuse), with the
    repairs made on the way."""

    values: dict[str, Any]
    repairs: list[Repair] = field(default_factory=list)


def repair_isbn(parsed: Parsed, spelled: str) -> None:
    """Read 7–9 digits as the ISBN-10 they were before a spreadsheet dropped its leading
    zeros, when the zero-padded number passes the ISBN-10 checksum."""
    isbn = parsed.values.get("isbn")
    if not isinstance(isbn, str) or not LOST_ZEROS.fullmatch(isbn.strip()):
        return
    padded = isbn.strip().zfill(10)
    if isbn10_is_valid(padded):
        parsed.values["isbn"] = padded
        parsed.repairs.append(
            Repair(
                "isbn",
                f"Read as the ISBN-10 {padded}: the number had lost its leading zeros.",
                "isbn_leading_zeros",
                shown(spelled),
            )
        )


def required_fields(fields: set[str], line: int | None) -> None:
    """Unreadable unless the fields a file has can make books: a title and an author."""
    if "title" not in fields:
        raise Unreadable("The file has no `title` column (map one with columns=title:...).", line)
    if not fields & set(AUTHOR_FIELDS):
        raise Unreadable(
            "The file has no column for the author: `author`, `author_id`, `authors` or "
            "`author_ids` (map one with columns=author:...).",
            line,
        )
