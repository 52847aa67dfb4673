"""An export as a stream of text: keyset batches, each read in a short transaction of its own,
so memory stays flat and no transaction stays open while a slow client reads."""

from collections.abc import AsyncIterator

from app.books.schemas import BookQuery
from app.db import Database
from app.exports.formats import header, lines
from app.exports.repository import ExportRepository
from app.exports.schemas import ExportQuery

BATCH_SIZE = 1000


async def export_text(database: Database, query: ExportQuery) -> AsyncIterator[str]:
    """The whole export, piece by piece, in the query's format and order."""
    yield header(query.format)
    cursor = ""
    while True:
        page = BookQuery.model_validate({**query.filters(), "cursor": cursor})
        async with database.reads() as session, session.begin():
            books = await ExportRepository(session).batch(page, BATCH_SIZE)
        if books:
            yield lines(query.format, books)
        if len(books) < BATCH_SIZE:
            return
        cursor = page.cursor_after(books[-1])
