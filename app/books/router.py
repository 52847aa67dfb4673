"""The books API: list, create, read, change and delete books."""

from fastapi import APIRouter, Response

from app.books.facet_repository import BookFacetRepositoryDep
from app.books.repository import BookDep, BookRepositoryDep, BookToChangeDep
from app.books.schemas import BookCreate, BookPage, BookQueryDep, BookRead, BookUpdate
from app.idempotency.guard import IdempotencyDep
from app.kit.errors import problem_responses
from app.kit.etag import (
    READ_RESPONSES,
    ConditionalDep,
    created_responses,
    tagged,
    updated_responses,
)
from app.kit.pagination import LIST_RESPONSES, PagerDep

router = APIRouter(prefix="/books", tags=["books"])


@router.get("", responses=LIST_RESPONSES)
async def list_books(
    query: BookQueryDep, books: BookRepositoryDep, facets: BookFacetRepositoryDep, pager: PagerDep
) -> BookPage:
    """List books, filtered, sorted and paginated, with facet counts when asked for."""
    page = pager.answer(BookPage, await books.page(query), query)
    if query.facet_names:
        page.meta.facets = await facets.count(query)
    return page


@router.post(
    "", status_code=201, response_model=BookRead, responses=created_responses(router.prefix)
)
async def create_book(
    data: BookCreate, books: BookRepositoryDep, idempotency: IdempotencyDep
) -> BookRead | Response:
    """Create one book; a retry with the same `Idempotency-Key` replays the first answer."""
    return await idempotency.create(lambda: books.create(data), router.prefix, BookRead)


@router.get("/{book_id}", response_model=BookRead, responses=READ_RESPONSES)
async def get_book(book: BookDep, conditional: ConditionalDep) -> BookRead | Response:
    """Get one book by its id."""
    return conditional.answer(book)


@router.patch("/{book_id}", response_model=BookRead, responses=updated_responses(404, 409, 412))
async def update_book(
    book: BookToChangeDep, data: BookUpdate, books: BookRepositoryDep, response: Response
) -> BookRead:
    """Change some of one book's fields; the others keep their values."""
    return tagged(response, await books.update(book, data))


@router.delete(
    "/{book_id}", status_code=204, response_class=Response, responses=problem_responses(404, 412)
)
async def delete_book(book: BookToChangeDep, books: BookRepositoryDep) -> None:
    """Delete a book."""
    await books.delete(book)
