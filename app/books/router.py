from fastapi import APIRouter, Response

from app.books.dependencies import BookDep, BookToChangeDep
from app.books.repository import BookRepositoryDep
from app.books.schemas import BookCreate, BookListItem, BookQueryDep, BookRead, BookUpdate
from app.errors import problem_responses
from app.etag import CREATED_RESPONSES, READ_HEADERS, READ_RESPONSES, ConditionalDep
from app.idempotency.guard import IdempotencyDep
from app.pagination import LIST_RESPONSES, Page, PagerDep

router = APIRouter(prefix="/books", tags=["books"])


@router.post("", status_code=201, response_model=BookRead, responses=CREATED_RESPONSES)
async def create_book(
    data: BookCreate, books: BookRepositoryDep, idempotency: IdempotencyDep
) -> BookRead | Response:
    """Create a book and any new tags it names; `Idempotency-Key` replays as for authors."""
    return await idempotency.create(lambda: books.create(data), "/books", BookRead)


@router.get("", responses=LIST_RESPONSES)
async def list_books(
    query: BookQueryDep, books: BookRepositoryDep, pager: PagerDep
) -> Page[BookListItem]:
    """List books with their authors and tags, filtered, sorted and paginated."""
    return pager.answer(await books.search(query), query)


@router.get("/{book_id}", response_model=BookRead, responses=READ_RESPONSES)
async def get_book(book: BookDep, conditional: ConditionalDep) -> BookRead | Response:
    """Get one book with its author and tags."""
    return conditional.answer(book)


@router.patch(
    "/{book_id}",
    responses={200: {"headers": READ_HEADERS}, **problem_responses(404, 409, 412)},
)
async def update_book(
    book: BookToChangeDep, data: BookUpdate, books: BookRepositoryDep, response: Response
) -> BookRead:
    """Change some of a book's fields; `tags` replaces the whole list."""
    changed = await books.update(book, data)
    response.headers["ETag"] = changed.etag
    return changed


@router.delete(
    "/{book_id}", status_code=204, response_class=Response, responses=problem_responses(404, 412)
)
async def delete_book(book: BookToChangeDep, books: BookRepositoryDep) -> None:
    """Delete a book."""
    await books.delete(book)
