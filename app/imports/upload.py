"""Reading an import's body as it arrives: counted against MAX_IMPORT_BYTES, transcoded to
UTF-8, kept on disk.

The body goes to a temporary file first, so that a slow upload holds no database
transaction (on SQLite, the one write lock); it then moves into the database in chunks.
Digesting and transcoding go a slice at a time, with a turn of the event loop between two
slices, so a large upload never holds it.
"""

import asyncio
import hashlib
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import IO, Any

from fastapi import Request
from starlette.requests import ClientDisconnect

from app.imports.charsets import CHARSET_NAMES, Transcoder, Undecodable, charset_named
from app.imports.formats import FORMATS, FileFormat, by_media_type
from app.imports.formats.fields import shown
from app.imports.repository import problem
from app.kit.errors import ContentTooLarge, Unprocessable, UnsupportedMediaType
from app.models.import_chunk import CHUNK_BYTES
from app.models.import_job import Charset

# Past this the temporary file moves from memory to disk.
SPOOL_BYTES = 1024 * 1024
# Bytes transcoded between two turns of the event loop: well under a millisecond of work.
SLICE_BYTES = 64 * 1024


def import_format(content_type: str | None) -> tuple[FileFormat, Charset]:
    """The format and charset a Content-Type names; a 415 unless Folio reads both. Without a
    charset the file is UTF-8; parameters other than `charset` are not looked at."""
    media_type, *parameters = (content_type or "").split(";")
    found = by_media_type(media_type.strip().lower())
    if found is None:
        allowed = " or ".join(found.media_type for found in FORMATS.values())
        raise UnsupportedMediaType(f"Send the file as {allowed}.")
    charset: Charset = "utf-8"
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            named = charset_named(value)
            if named is None:
                raise UnsupportedMediaType(
                    f"Folio does not read the charset {shown(value.strip(), 40)!r}; "
                    f"send the file in one of {CHARSET_NAMES}."
                )
            charset = named
    return found, charset


@dataclass
class Upload:
    file: IO[bytes]  # the body in UTF-8
    size: int  # bytes received
    digest: str  # of the bytes received
    # Why the body is not text in its charset, if it is not: the import fails at once.
    undecodable: Undecodable | None = None

    def failure(self, import_id: uuid.UUID) -> dict[str, Any] | None:
        """The problem its import fails with at once, if the body is not text in its charset."""
        found = self.undecodable
        if found is None:
            return None
        return problem(import_id, "Unreadable File", 422, found.detail, found.line)

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body again, in the pieces it is stored in."""
        self.file.seek(0)
        while data := self.file.read(CHUNK_BYTES):
            yield data


class Spool:
    """Digests the body and writes it to `file` as UTF-8."""

    def __init__(self, file: IO[bytes], transcoder: Transcoder) -> None:
        self.file = file
        self.transcoder = transcoder
        self.digest = hashlib.sha256()
        self.undecodable: Undecodable | None = None

    def write(self, data: bytes, final: bool = False) -> None:
        self.digest.update(data)
        if self.undecodable is not None:
            return  # the rest is digested, for Idempotency-Key, and not kept
        try:
            self.file.write(self.transcoder.feed(data, final))
        except Undecodable as exc:
            self.undecodable = exc


@asynccontextmanager
async def spooled(
    pieces: AsyncIterator[bytes], limit: int, file_format: FileFormat, charset: Charset
) -> AsyncIterator[Upload]:
    """The body, read until it ends or passes `limit` bytes (a 413), as UTF-8."""
    size = 0
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as file:
        transcoder = Transcoder(charset, file_format.cr_ends_lines, file_format.media_type)
        spool = Spool(file, transcoder)
        async for data in pieces:
            size += len(data)
            if size > limit:
                raise ContentTooLarge(f"An import may have at most {limit} bytes.")
            for start in range(0, len(data), SLICE_BYTES):
                spool.write(data[start : start + SLICE_BYTES])
                await asyncio.sleep(0)
        spool.write(b"", final=True)
        yield Upload(file, size, spool.digest.hexdigest(), spool.undecodable)


async def request_body(request: Request) -> AsyncIterator[bytes]:
    """The request's body as it arrives; a 422 if the client goes before it ends."""
    try:
        async for data in request.stream():
            yield data
    except ClientDisconnect:
        raise Unprocessable.at(["body"], "The body ended early.", "incomplete") from None
