"""Reading an import's body as it arrives: counted against MAX_IMPORT_BYTES, kept on disk.

The body goes to a temporary file first, so that a slow upload holds no database
transaction (on SQLite, the one write lock); it then moves into the database in chunks.
"""

import hashlib
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import IO

from fastapi import Request
from starlette.requests import ClientDisconnect

from app.imports.formats import FORMATS, FileFormat, by_media_type
from app.kit.errors import ContentTooLarge, Unprocessable, UnsupportedMediaType
from app.models.import_chunk import CHUNK_BYTES

# Past this the temporary file moves from memory to disk.
SPOOL_BYTES = 1024 * 1024


def import_format(content_type: str | None) -> FileFormat:
    """The format a Content-Type names; a 415 unless it is one of the formats, in UTF-8."""
    media_type, _, parameters = (content_type or "").partition(";")
    found = by_media_type(media_type.strip().lower())
    charset = parameters.strip().lower().removeprefix("charset=").strip('"')
    if found is None or (parameters.strip() and charset not in ("utf-8", "utf8")):
        allowed = " or ".join(found.media_type for found in FORMATS.values())
        raise UnsupportedMediaType(f"Send the file as {allowed} (UTF-8).")
    return found


@dataclass
class Upload:
    file: IO[bytes]
    size: int
    digest: str

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body again, in the pieces it is stored in."""
        self.file.seek(0)
        while data := self.file.read(CHUNK_BYTES):
            yield data


@asynccontextmanager
async def spooled_body(request: Request, limit: int) -> AsyncIterator[Upload]:
    """The request's body, read until it ends or passes `limit` bytes (a 413)."""
    digest = hashlib.sha256()
    size = 0
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as file:
        try:
            async for data in request.stream():
                size += len(data)
                if size > limit:
                    raise ContentTooLarge(f"An import may have at most {limit} bytes.")
                digest.update(data)
                file.write(data)
        except ClientDisconnect:
            raise Unprocessable.at(["body"], "The body ended early.", "incomplete") from None
        yield Upload(file, size, digest.hexdigest())
