"""CSV: a header line naming the columns, RFC 4180 quoting, cells separated by a comma, a
semicolon or a tab (found from the header unless `delimiter` names one).

Spreadsheets' habits are undone on the way in: the text guard `="0439023483"`, and the quote
that keeps a cell starting with a formula character as text. An export puts that quote back
(OWASP's advice on CSV injection), so a spreadsheet opens it safely and an import of it
restores every text as it was.
"""

import csv
import io
import re
from collections.abc import Iterable
from typing import Any

from app.imports.formats.base import COLUMNS, FileFormat, Plan
from app.imports.formats.fields import (
    DELIMITERS,
    FIELDS,
    MAX_NAMES_SHOWN,
    Names,
    Parsed,
    Reading,
    listed,
    repair_isbn,
    required_fields,
    shown,
)
from app.imports.reader import Record, RowError, Unreadable
from app.models import fold
from app.models.import_job import Delimiter

# A spreadsheet writes the year 2008 as "2008.0"; any other fraction is not a year.
WHOLE_NUMBER = re.compile(r"[+-]?\d+(\.0*)?")
NUMBER = re.compile(r"\d+(\.\d*)?|\.\d+")
LIST_SEPARATOR = "|"
# Fields whose values are lists: one cell of LIST_SEPARATOR-separated values.
LISTS = ("authors", "author_ids", "tags")
# A cell that a spreadsheet would run as a formula, behind any quotes that already guard it.
FORMULA = re.compile(r"'*[=+\-@\t\r]")
TEXT_GUARD = re.compile(r'="((?:[^"]|"")*)"')
QUOTED = re.compile(r'"[^"]*"')
# More columns than any catalogue has: a header past it is not read column by column.
MAX_HEADER_COLUMNS = 1000


def csv_cells(text: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader([text], delimiter=delimiter), [])
    except csv.Error as exc:
        raise Unreadable(f"Not CSV: {exc}.") from None


def found_delimiter(header: Record, forced: Delimiter | None) -> Delimiter:
    """The delimiter given, or the one the header line uses most outside quotes (a tie goes to
    the comma, then the semicolon); Unreadable if it splits nothing."""
    outside = QUOTED.sub("", header.text)
    counts: dict[Delimiter, int] = {name: outside.count(char) for name, char in DELIMITERS.items()}
    if forced is not None:
        if not counts[forced]:
            raise Unreadable(
                f"delimiter={forced} splits nothing: the header has no "
                f"{DELIMITERS[forced]!r} outside quotes.",
                header.line,
            )
        return forced
    best = max(counts, key=counts.__getitem__)
    if not counts[best]:
        raise Unreadable(
            "The header has one column: no comma, semicolon or tab separates its names.",
            header.line,
        )
    return best


def unguarded(cell: str) -> str:
    """The text a spreadsheet shows for a cell: without the quote before a formula character
    (one of them, if there are several), or inside a `="..."` text guard."""
    if cell.startswith("'") and FORMULA.match(cell, 1):
        return cell[1:]
    if match := TEXT_GUARD.fullmatch(cell.strip()):
        return match.group(1).replace('""', '"')
    return cell


def guarded(value: Any) -> Any:
    """A text a spreadsheet would run as a formula, made inert by a leading quote."""
    if isinstance(value, str) and FORMULA.match(value):
        return "'" + value
    return value


def author_names(cell: str, separator: str) -> list[str]:
    """The names in a cell, in order; a name repeated (in any case) counts at its first place."""
    names: dict[str, str] = {}
    for name in cell.split(separator):
        if name.strip():
            names.setdefault(fold(name.strip()), name.strip())
    return list(names.values())


class CsvFormat(FileFormat):
    def plan(self, reading: Reading, header: Record | None) -> Plan:
        if header is None:
            raise Unreadable("The file is empty: a csv import needs a header line.")
        delimiter = found_delimiter(header, reading.delimiter)
        names = Names.of(reading, str.casefold)
        try:
            columns = [name.strip() for name in csv_cells(header.text, DELIMITERS[delimiter])]
        except Unreadable as exc:
            raise Unreadable(exc.detail, header.line) from None
        if len(columns) > MAX_HEADER_COLUMNS:
            raise Unreadable(
                f"The header has {len(columns)} columns; Folio reads at most {MAX_HEADER_COLUMNS}.",
                header.line,
            )
        cells: list[str | None] = []
        unknown: list[str] = []
        seen: dict[str, str] = {}
        for column in columns:
            name = names.field(column)
            if name is not None and name in seen:
                raise Unreadable(
                    f"Columns {listed([seen[name], column])} are both read as {name}.",
                    header.line,
                )
            if name is None:
                unknown.append(column)
            else:
                seen[name] = column
            cells.append(name)
        missing = [column for name, column in reading.columns.items() if name not in seen]
        if missing:
            raise Unreadable(
                f"The header has no column {listed(missing)}, which `columns` maps a field to.",
                header.line,
            )
        if unknown and reading.unknown_columns == "error":
            raise Unreadable(
                f"Unknown columns {listed(unknown)}; known: {', '.join(FIELDS)}. Send "
                "unknown_columns=ignore to skip them, or columns=field:column to read them.",
                header.line,
            )
        required_fields(set(seen), header.line)
        if reading.author_separator is not None and "authors" not in seen:
            cells = ["authors" if name == "author" else name for name in cells]
        ignored = tuple(shown(name) for name in dict.fromkeys(unknown))[:MAX_NAMES_SHOWN]
        return Plan(reading, names, tuple(cells), delimiter, ignored)

    def row(self, plan: Plan, text: str) -> Parsed:
        """An empty cell is an absent value."""
        assert plan.delimiter is not None
        try:
            cells = csv_cells(text, DELIMITERS[plan.delimiter])
        except Unreadable as exc:
            raise RowError((None, exc.detail, "csv_invalid")) from None
        if len(cells) != len(plan.cells):
            count = f"The row has {len(cells)} cells; the header has {len(plan.cells)}."
            raise RowError((None, count, "csv_cells"))
        parsed = Parsed({})
        for name, raw in zip(plan.cells, cells, strict=True):
            if name is None:
                continue
            cell = unguarded(raw)
            if not cell.strip():
                continue
            parsed.values[name] = self.value(plan, name, cell)
            if name == "isbn":
                repair_isbn(parsed, raw)
        return parsed

    def value(self, plan: Plan, name: str, cell: str) -> Any:
        """A cell as the value of its field."""
        if name == "tags":
            return [tag for tag in cell.split(LIST_SEPARATOR) if tag.strip()]
        if name == "author_ids":
            return [found.strip() for found in cell.split(LIST_SEPARATOR) if found.strip()]
        if name == "authors":
            return author_names(cell, plan.reading.author_separator or LIST_SEPARATOR)
        if name == "published_year" and WHOLE_NUMBER.fullmatch(cell.strip()):
            return int(float(cell)) if "." in cell else int(cell)
        if name == "series_position" and NUMBER.fullmatch(cell.strip()):
            return float(cell)
        return cell

    def header(self) -> str:
        return ",".join(COLUMNS) + "\r\n"

    def rows(self, books: Iterable[dict[str, Any]]) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        for book in books:
            cells = {**book, **{name: LIST_SEPARATOR.join(book[name]) for name in LISTS}}
            writer.writerow(
                [guarded("" if cells[name] is None else cells[name]) for name in COLUMNS]
            )
        return out.getvalue()
