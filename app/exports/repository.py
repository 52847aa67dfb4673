"""The SQL of exports: the books of `GET /books`, read in keyset batches."""

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.books.repository import (
    BOOKS_WITH_AUTHOR,
    SORT_COLUMNS,
    BookRepository,
    book_filters,
    book_read,
)
from app.books.schemas import BookQuery, BookRead
from app.models import Book
from app.repository import after_cursor, order_by


class ExportRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def batch(self, query: BookQuery, size: int) -> list[BookRead]:
        """Up to `size` books in the query's order, after its cursor if it has one."""
        statement = (
            BOOKS_WITH_AUTHOR.where(
                *book_filters(query), *after_cursor(query, SORT_COLUMNS, Book.id)
            )
            .order_by(*order_by(query, SORT_COLUMNS, Book.id))
            .limit(size)
        )
        rows: list[Any] = list((await self.session.exec(statement)).all())  # type: ignore[call-overload]
        tags = await BookRepository(self.session).tag_names([row.id for row in rows])
        return [book_read(row, tags[row.id]) for row in rows]
