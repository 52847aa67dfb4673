"""An uploaded file read as records, chunk by chunk: where each starts and ends, in bytes and
physical lines. The reading is linear in the file's size: a record's length and its quotes are
counted once, as its lines arrive. A chunk is split a slice of lines at a time, and the event
loop gets its turn between slices, so a file of many short lines never holds it.

A CSV record ends on the physical line where its double quotes balance (RFC 4180 quoting), so
a quoted cell may span lines; `line` is the physical line a record starts on. A physical line
ends at LF, at CRLF, or (where the format says so) at a CR alone, as old Mac files end theirs.
"""

import asyncio
import re
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

BOM = b"\xef\xbb\xbf"
# A record still open after this many bytes has a quote that never closes.
MAX_RECORD_BYTES = 1024 * 1024
# Physical lines split between two turns of the event loop: a millisecond or two of work.
LINES_PER_SLICE = 2000
LF_ONLY = re.compile(rb"\n")
ANY_LINE_END = re.compile(rb"\r\n?|\n")

Chunks = Callable[[int], Awaitable[bytes | None]]


class Layout(Protocol):
    """What a format says of how its records split (formats.FileFormat has these)."""

    @property
    def quoted(self) -> bool: ...  # records may span lines inside double quotes

    @property
    def cr_ends_lines(self) -> bool: ...  # a CR alone ends a physical line


class Unreadable(Exception):
    """The file as a whole cannot be read: not CSV, no `title` column, a quote never closed.
    `line` is the physical line at fault, when one is."""

    def __init__(self, detail: str, line: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.line = line


class RowError(Exception):
    """One row's faults, as its error lines show them: (loc, msg, type) each."""

    def __init__(self, *faults: tuple[str | None, str, str]) -> None:
        super().__init__(faults[0][1])
        self.faults = faults


@dataclass
class Record:
    line: int  # the physical line it starts on, from 1
    text: str  # its physical lines, joined
    end_offset: int  # bytes into the file where it ends
    end_line: int  # the last physical line it takes


@dataclass
class OpenRecord:
    """The physical lines of a record that has not ended yet, with their length and quotes
    counted as they came."""

    start: int
    parts: list[bytes] = field(default_factory=list)
    size: int = 0
    quotes: int = 0

    def add(self, raw: bytes) -> None:
        self.parts.append(raw)
        self.size += len(raw)
        self.quotes += raw.count(b'"')


class Splitter:
    """Splits the bytes of a file, fed in order, into records, as many lines at a time as the
    caller asks for. `offset` ends physical line `line`, where splitting starts."""

    def __init__(self, quoted: bool, cr_ends_lines: bool, offset: int, line: int) -> None:
        self.quoted = quoted
        self.line_end = ANY_LINE_END if cr_ends_lines else LF_ONLY
        self.offset = offset  # bytes into the file where `pending` starts
        self.line = line
        self.pending = b""
        self.start = 0  # where in `pending` the next line starts
        self.ends: Iterator[re.Match[bytes]] = iter(())
        self.current = OpenRecord(line + 1)

    def feed(self, data: bytes) -> None:
        """Add the file's next bytes; `step` splits them."""
        self.pending = self.pending[self.start :] + data
        self.start = 0
        self.ends = self.line_end.finditer(self.pending)

    def step(self, lines: int) -> tuple[list[Record], bool]:
        """The records that end in the next `lines` physical lines, and whether the bytes fed
        so far are used up."""
        found: list[Record] = []
        for match in self.ends:
            # A CR that ends the data may be the first half of a CRLF: wait for more.
            if match.end() == len(self.pending) and match.group() == b"\r":
                break
            self.physical_line(self.pending[self.start : match.end()], found)
            self.start = match.end()
            lines -= 1
            if not lines:
                return found, False
        if len(self.pending) - self.start > MAX_RECORD_BYTES:
            raise Unreadable(f"A line is longer than {MAX_RECORD_BYTES} bytes.", self.line + 1)
        return found, True

    def end(self) -> list[Record]:
        """The last record, once the file has no more bytes."""
        found: list[Record] = []
        if rest := self.pending[self.start :]:
            self.physical_line(rest, found)
            self.pending, self.start = b"", 0
        if self.current.parts:
            raise Unreadable(
                f"The quoted cell that starts on line {self.current.start} never ends.",
                self.current.start,
            )
        return found

    def physical_line(self, raw: bytes, found: list[Record]) -> None:
        self.offset += len(raw)
        self.line += 1
        if self.line == 1 and raw.startswith(BOM):
            raw = raw[len(BOM) :]
        current = self.current
        current.add(raw)
        if self.quoted and current.quotes % 2:
            if current.size > MAX_RECORD_BYTES:
                raise Unreadable(
                    f"The quoted cell that starts on line {current.start} never ends.",
                    current.start,
                )
            return
        text = decode(b"".join(current.parts), current.start)
        if text.strip():
            found.append(Record(current.start, text, self.offset, self.line))
        self.current = OpenRecord(self.line + 1)


def decode(raw: bytes, line: int) -> str:
    # Uploads are stored as UTF-8 (upload.py transcodes them); this guards older ones.
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Unreadable(f"The file is not UTF-8 (line {line}).", line) from None


async def records(
    chunk: Chunks, layout: Layout, offset: int, line: int, chunk_bytes: int
) -> AsyncGenerator[Record, None]:
    """Every non-blank record after `offset` (which ends physical line `line`), split as
    `layout` says, LINES_PER_SLICE lines between two turns of the event loop."""
    splitter = Splitter(layout.quoted, layout.cr_ends_lines, offset, line)
    seq, skip = divmod(offset, chunk_bytes)
    while (data := await chunk(seq)) is not None:
        if skip:
            data, skip = data[skip:], 0
        seq += 1
        splitter.feed(data)
        used_up = False
        while not used_up:
            found, used_up = splitter.step(LINES_PER_SLICE)
            for record in found:
                yield record
            if not used_up:
                await asyncio.sleep(0)
    for record in splitter.end():
        yield record
