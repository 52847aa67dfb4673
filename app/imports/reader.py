"""An uploaded file read as records, chunk by chunk: where each starts and ends, in bytes and
physical lines. The reading is linear in the file's size: a record's length and its quotes are
counted once, as its lines arrive.

A CSV record ends on the physical line where its double quotes balance (RFC 4180 quoting), so
a quoted cell may span lines; `line` is the physical line a record starts on.
"""

import codecs
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

BOM = b"\xef\xbb\xbf"
# A record still open after this many bytes has a quote that never closes.
MAX_RECORD_BYTES = 1024 * 1024

Chunks = Callable[[int], Awaitable[bytes | None]]


class Unreadable(Exception):
    """The file as a whole cannot be read: not UTF-8, not CSV, no `title` column."""


class RowError(Exception):
    """One row's fault, as its error line shows it."""

    def __init__(self, loc: str | None, msg: str, type_: str) -> None:
        super().__init__(msg)
        self.loc = loc
        self.msg = msg
        self.type = type_


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


async def records(
    chunk: Chunks, quoted: bool, offset: int, line: int, chunk_bytes: int
) -> AsyncIterator[Record]:
    """Every non-blank record after `offset` (which ends physical line `line`); with `quoted`,
    a record goes on until its double quotes balance."""
    current = OpenRecord(line + 1)
    async for raw, end in physical_lines(chunk, offset, chunk_bytes):
        line += 1
        if end == len(raw) and raw.startswith(BOM):
            raw = raw[len(BOM) :]
        current.add(raw)
        if quoted and current.quotes % 2:
            if current.size > MAX_RECORD_BYTES:
                raise Unreadable(f"The quoted cell that starts on line {current.start} never ends.")
            continue
        text = decode(b"".join(current.parts), current.start)
        if text.strip():
            yield Record(current.start, text, end, line)
        current = OpenRecord(line + 1)
    if current.parts:
        raise Unreadable(f"The quoted cell that starts on line {current.start} never ends.")


async def check_utf8(chunk: Chunks) -> None:
    """Unreadable unless the whole file is UTF-8."""
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
