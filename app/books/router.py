from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.books.dependencies import BookDep, BookToChangeDep
from app.books.repository import BookRepositoryDep
from app.books.schemas import BookCreate, BookQuery, BookRead, BookUpdate
from app.errors import problem_responses
from app.etag import CREATED_HEADERS, NOT_MODIFIED, READ_HEADERS, IfNoneMatch, tagged
from app.idempotency.guard import IdempotencyDep
from app.pagination import LIST_HEADERS, Page, answer

router = APIRouter(prefix="/books", tags=["books"])


@router.post(
    "",
    status_code=201,
    response_model=BookRead,
    responses={201: {"headers": CREATED_HEADERS}, **problem_responses(409)},
)
async def create_book(
    data: BookCreate, books: BookRepositoryDep, idempotency: IdempotencyDep, response: Response
) -> BookRead | Response:
    """Create a book and any new tags it names; `Idempotency-Key` replays as for authors."""
    if (replay := await idempotency.replay()) is not None:
        return replay
    book = await books.create(data)
    headers = {"Location": f"/books/{book.id}", "ETag": book.etag}
    await idempotency.save(201, book, headers)
    response.headers.update(headers)
    return book


@router.get("", responses={200: {"headers": LIST_HEADERS}, **problem_responses()})
async def list_books(
    query: Annotated[BookQuery, Query()],
    books: BookRepositoryDep,
    request: Request,
    response: Response,
) -> Page[BookRead]:
    """List books with their authors and tags, filtered, sorted and paginated."""
    return answer(await books.search(query), query, request, response)


@router.get(
    "/{book_id}",
    response_model=BookRead,
    responses={200: {"headers": READ_HEADERS}, **NOT_MODIFIED, **problem_responses(404)},
)
async def get_book(
    book: BookDep, response: Response, if_none_match: IfNoneMatch = None
) -> BookRead | Response:
    """Get one book with its author and tags."""
    return tagged(book, response, if_none_match)


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
