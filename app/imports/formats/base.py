"""What every file format is: a Plan for reading one file, and the FileFormat interface."""

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from app.imports.formats.fields import FIELDS, Names, Parsed, Reading
from app.imports.reader import Record
from app.models.import_job import Delimiter, FormatName

# What an export writes, in this order: every field.
COLUMNS = FIELDS


@dataclass(frozen=True)
class Plan:
    """How the records of one file are read, once its header (if it has one) is known."""

    reading: Reading
    names: Names
    # CSV: the field each cell is read as, in order; None for a column that is skipped.
    cells: tuple[str | None, ...] = ()
    delimiter: Delimiter | None = None
    ignored: tuple[str, ...] = ()  # the columns skipped, cut to a bounded list


@dataclass(frozen=True)
class FileFormat(ABC):
    """What every format says of itself; the methods are each format's own."""

    name: FormatName
    media_type: str
    suffixes: tuple[str, ...]
    # Whether records may span lines (quoted cells), whether the first one names columns,
    # and whether a CR alone ends a line.
    quoted: bool
    has_header: bool
    cr_ends_lines: bool

    @abstractmethod
    def plan(self, reading: Reading, header: Record | None) -> Plan:
        """How to read the records after `header` (a format without one gets None);
        Unreadable unless books can be imported from them."""

    @abstractmethod
    def row(self, plan: Plan, text: str) -> Parsed:
        """A record as Folio's fields; RowError if it cannot be one."""

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
