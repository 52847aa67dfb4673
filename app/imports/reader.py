"""Records of an uploaded file, read chunk by chunk: where each starts and ends, and its fields.

A CSV record ends on the physical line where its double quotes balance (RFC 4180 quoting),
so a quoted cell may span lines; `line` is the physical line a record starts on.
"""

import codecs
import csv
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

BOM = b"\xef\xbb\xbf"
COLUMNS = ("title", "author", "author_id", "isbn", "published_year", "description", "tags")
# A spreadsheet writes the year 2008 as "2008.0"; any other fraction is not a year.
WHOLE_NUMBER = re.compile(r"^[+-]?\d+(\.0*)?$")
# A record still open after this many bytes has a quote that never closes.
MAX_RECORD_BYTES = 1024 * 1024

Chunks = Callable[[int], Awaitable[bytes | None]]


class Unreadable(Exception):
    """The file as a whole cannot be read: not UTF-8, not CSV, no `title` column."""


@dataclass
class Record:
    line: int  # the physical line it starts on, from 1
    text: str  # its physical lines, joined
    end_offset: int  # bytes into the file where it ends
    end_line: int  # the last physical line it takes


async def physical_lines(
    chunk: Chunks, offset: int, chunk_bytes: int
) -> AsyncIterator[tuple[bytes, int]]:
    """Each line from `offset` on, with the offset just after it; `chunk(seq)` reads a chunk."""
    seq, skip = divmod(offset, chunk_bytes)
    pending = b""
    while (data := await chunk(seq)) is not None:
        if skip:
            data, skip = data[skip:], 0
        seq += 1
        pending += data
        start = 0
        while (end := pending.find(b"\n", start)) != -1:
            offset += end + 1 - start
            yield pending[start : end + 1], offset
            start = end + 1
        pending = pending[start:]
        if len(pending) > MAX_RECORD_BYTES:
            raise Unreadable(f"A line is longer than {MAX_RECORD_BYTES} bytes.")
    if pending:
        yield pending, offset + len(pending)


def decode(raw: bytes, line: int) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Unreadable(f"The file is not UTF-8 (line {line}).") from None


async def records(
    chunk: Chunks, is_csv: bool, offset: int, line: int, chunk_bytes: int
) -> AsyncIterator[Record]:
    """Every non-blank record after `offset` (which ends physical line `line`)."""
    parts: list[bytes] = []
    quotes = 0
    start = line + 1
    async for raw, end in physical_lines(chunk, offset, chunk_bytes):
        line += 1
        if end == len(raw) and raw.startswith(BOM):
            raw = raw[len(BOM) :]
        parts.append(raw)
        if is_csv:
            quotes += raw.count(b'"')
            if quotes % 2:
                if sum(map(len, parts)) > MAX_RECORD_BYTES:
                    raise Unreadable(f"The quoted cell that starts on line {start} never ends.")
                continue
        text = decode(b"".join(parts), start)
        parts, quotes = [], 0
        if text.strip():
            yield Record(start, text, end, line)
        start = line + 1
    if parts:
        raise Unreadable(f"The quoted cell that starts on line {start} never ends.")


def csv_cells(text: str) -> list[str]:
    try:
        return next(csv.reader([text]), [])
    except csv.Error as exc:
        raise Unreadable(f"Not CSV: {exc}.") from None


def csv_header(text: str) -> list[str]:
    """The columns a CSV header names; Unreadable unless Folio can import by them."""
    columns = [name.strip().lower() for name in csv_cells(text)]
    unknown = [name for name in columns if name not in COLUMNS]
    if unknown:
        raise Unreadable(
            f"Unknown columns {', '.join(map(repr, unknown))}; known: {', '.join(COLUMNS)}."
        )
    if len(set(columns)) != len(columns):
        raise Unreadable("A column is named twice in the header.")
    if "title" not in columns:
        raise Unreadable("The header has no `title` column.")
    if "author" not in columns and "author_id" not in columns:
        raise Unreadable("The header has neither an `author` nor an `author_id` column.")
    return columns


class RowError(Exception):
    """One row's fault, as its error line shows it."""

    def __init__(self, loc: str | None, msg: str, type_: str) -> None:
        super().__init__(msg)
        self.loc = loc
        self.msg = msg
        self.type = type_


def csv_row(columns: list[str], text: str) -> dict[str, Any]:
    """A CSV record as the fields of a book; an empty cell is an absent value."""
    cells = csv_cells(text)
    if len(cells) != len(columns):
        raise RowError(
            None, f"The row has {len(cells)} cells; the header has {len(columns)}.", "csv_cells"
        )
    row: dict[str, Any] = {}
    for name, cell in zip(columns, cells, strict=True):
        if not cell.strip():
            continue
        if name == "tags":
            row[name] = [tag for tag in cell.split("|") if tag.strip()]
        elif name == "published_year" and WHOLE_NUMBER.match(cell.strip()):
            row[name] = int(float(cell)) if "." in cell else int(cell)
        else:
            row[name] = cell
    return row


def ndjson_row(text: str) -> dict[str, Any]:
    try:
        row = json.loads(text)
    except (ValueError, RecursionError):
        raise RowError(None, "The line is not valid JSON.", "json_invalid") from None
    if not isinstance(row, dict):
        raise RowError(None, "The line is not a JSON object.", "object_type")
    return row


async def check_file(chunk: Chunks, is_csv: bool, chunk_bytes: int) -> int:
    """Read the whole file once: Unreadable if it cannot be imported, else how many rows."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    seq = 0
    while (data := await chunk(seq)) is not None:
        try:
            decoder.decode(data)
        except UnicodeDecodeError:
            raise Unreadable("The file is not UTF-8.") from None
        seq += 1
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise Unreadable("The file is not UTF-8: it ends inside a character.") from None
    count = 0
    async for record in records(chunk, is_csv, 0, 0, chunk_bytes):
        if count == 0 and is_csv:
            csv_header(record.text)
        count += 1
    if is_csv:
        if count == 0:
            raise Unreadable("The file is empty: a CSV import needs a header line.")
        return count - 1
    return count
