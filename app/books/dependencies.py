"""The book a request is about, loaded once for every route that needs it."""

import uuid
from typing import Annotated

from fastapi import Depends

from app.books.repository import BookRepositoryDep
from app.books.schemas import BookRead
from app.etag import IfMatch, found, matching

NOT_A_BOOK = "No book has this id."


async def book(book_id: uuid.UUID, books: BookRepositoryDep) -> BookRead:
    """The book at the path; 404 if there is none."""
    return found(await books.get(book_id), NOT_A_BOOK)


async def book_to_change(
    book_id: uuid.UUID, books: BookRepositoryDep, if_match: IfMatch = None
) -> BookRead:
    """The book at the path, locked until the transaction ends; 404 or 412 as for any write."""
    return matching(await books.get_for_update(book_id), NOT_A_BOOK, if_match)


BookDep = Annotated[BookRead, Depends(book)]
BookToChangeDep = Annotated[BookRead, Depends(book_to_change)]
