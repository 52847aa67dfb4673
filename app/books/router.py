import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.books.repository import BookRepositoryDep
from app.books.schemas import BookCreate, BookListItem, BookQuery, BookRead, BookUpdate
from app.errors import NotFound, problem_responses
from app.etag import (
    CREATED_HEADERS,
    NOT_MODIFIED,
    READ_HEADERS,
    IfMatch,
    IfNoneMatch,
    check_if_match,
    etag,
    none_match,
)
from app.idempotency.guard import IdempotencyDep
from app.models import Book
from app.pagination import LIST_HEADERS, Page, link_header

router = APIRouter(prefix="/books", tags=["books"])

NOT_A_BOOK = "No book has this id."


def book_etag(book: Book) -> str:
    """The tag of the book as it is shown, its author's name included."""
    return etag(book.version, (book.author.id, book.author.version))


@router.post(
    "",
    status_code=201,
    response_model=BookRead,
    responses={201: {"headers": CREATED_HEADERS}, **problem_responses(409)},
)
async def create_book(
    data: BookCreate,
    books: BookRepositoryDep,
    idempotency: IdempotencyDep,
    response: Response,
) -> BookRead | Response:
    """Create a book and any new tags it names; `Idempotency-Key` replays as for authors."""
    if (replay := await idempotency.replay()) is not None:
        return replay
    book = await books.create(data)
    created = BookRead.model_validate(book)
    headers = {"Location": f"/books/{book.id}", "ETag": book_etag(book)}
    await idempotency.save(201, created, headers)
    response.headers.update(headers)
    return created


@router.get("", responses={200: {"headers": LIST_HEADERS}, **problem_responses()})
async def list_books(
    query: Annotated[BookQuery, Query()],
    books: BookRepositoryDep,
    request: Request,
    response: Response,
) -> Page[BookListItem]:
    """List books with their authors and tags, filtered, sorted and paginated."""
    found, total = await books.search(query)
    page = Page[BookListItem].of(found, total, query)
    response.headers["Link"] = link_header(request.url, page)
    return page


@router.get(
    "/{book_id}",
    response_model=BookRead,
    responses={200: {"headers": READ_HEADERS}, **NOT_MODIFIED, **problem_responses(404)},
)
async def get_book(
    book_id: uuid.UUID,
    books: BookRepositoryDep,
    response: Response,
    if_none_match: IfNoneMatch = None,
) -> BookRead | Response:
    """Get one book with its author and tags."""
    found = await books.get(book_id)
    if found is None:
        raise NotFound(NOT_A_BOOK)
    book = found.book
    tag = etag(book.version, (book.author.id, found.author_version))
    if none_match(if_none_match, tag):
        return Response(status_code=304, headers={"ETag": tag})
    response.headers["ETag"] = tag
    return book


@router.patch(
    "/{book_id}",
    responses={200: {"headers": READ_HEADERS}, **problem_responses(404, 409, 412)},
)
async def update_book(
    book_id: uuid.UUID,
    data: BookUpdate,
    books: BookRepositoryDep,
    response: Response,
    if_match: IfMatch = None,
) -> BookRead:
    """Change some of a book's fields; `tags` replaces the whole list."""
    book = await books.get_for_update(book_id)
    if book is None:
        raise NotFound(NOT_A_BOOK)
    check_if_match(if_match, book_etag(book))
    await books.update(book, data)
    response.headers["ETag"] = book_etag(book)
    return BookRead.model_validate(book)


@router.delete(
    "/{book_id}", status_code=204, response_class=Response, responses=problem_responses(404, 412)
)
async def delete_book(
    book_id: uuid.UUID, books: BookRepositoryDep, if_match: IfMatch = None
) -> None:
    """Delete a book."""
    book = await books.get_for_update(book_id)
    if book is None:
        raise NotFound(NOT_A_BOOK)
    check_if_match(if_match, book_etag(book))
    await books.delete(book)
