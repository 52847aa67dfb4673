from typing import Annotated

from fastapi import APIRouter, Response

from app.books.repository import BookRepositoryDep
from app.books.schemas import BookCreate, BookListItem, BookQueryDep, BookRead, BookUpdate
from app.collection import Collection
from app.errors import problem_responses

router = APIRouter(prefix="/books", tags=["books"])
books = Collection(router, "book", BookRepositoryDep)
books.add_reads(BookQueryDep, listed=BookListItem, shown=BookRead)
books.add_writes(BookCreate, BookUpdate, written=BookRead, update_problems=[404, 409, 412])


@router.delete(
    "/{book_id}", status_code=204, response_class=Response, responses=problem_responses(404, 412)
)
async def delete_book(
    book: Annotated[BookRead, books.to_change], repository: BookRepositoryDep
) -> None:
    """Delete a book."""
    await repository.delete(book)
