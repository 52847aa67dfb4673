"""An export as a stream of text: keyset pages, read in one transaction, so that the export
is one snapshot of the catalogue (a book renamed meanwhile is listed once, as it was when
the export began) and memory stays flat.

The snapshot is SQLite's read transaction, and a REPEATABLE READ transaction on PostgreSQL.
It lasts as long as the client takes to read the export: on SQLite a checkpoint cannot move
past it meanwhile, so the WAL file grows with what is written during a slow export.
"""

from collections.abc import AsyncIterator
from typing import Any

from app.books.repository import BookRepository
from app.books.schemas import BookRead
from app.db.engine import Database
from app.exports.schemas import ExportQuery
from app.imports.formats import by_name
from app.kit.pagination import MAX_PER_PAGE

# Books per page read, the largest page a list serves.
BATCH_SIZE = MAX_PER_PAGE


async def export_text(database: Database, query: ExportQuery) -> AsyncIterator[str]:
    """The whole export, piece by piece, in the query's format and order: the pages of
    `GET /books` by cursor, without a count."""
    file_format = by_name(query.format)
    yield file_format.header()
    async with database.reads() as session, session.begin():
        if (isolation := database.snapshot_isolation) is not None:
            # Set before any statement: the transaction's first one takes the snapshot.
            await session.connection(execution_options={"isolation_level": isolation})
        books = BookRepository(session)
        cursor = ""
        while True:
            found = await books.page(query.page(cursor, BATCH_SIZE))
            if found.items:
                yield file_format.rows(exported(book) for book in found.items)
            if found.next_cursor is None:
                return
            cursor = found.next_cursor


def exported(book: BookRead) -> dict[str, Any]:
    """A book as a row of an import file."""
    return {
        "title": book.title,
        "author": book.author.name,
        "author_id": str(book.author_id),
        "authors": [author.name for author in book.authors],
        "author_ids": [str(author.id) for author in book.authors],
        "isbn": book.isbn,
        "published_year": book.published_year,
        "description": book.description,
        "tags": book.tags,
        "publisher": book.publisher,
        "language": book.language,
        "series": book.series,
        "series_position": book.series_position,
    }
