import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.authors.repository import AuthorRepositoryDep
from app.authors.schemas import (
    AuthorCreate,
    AuthorDetail,
    AuthorListItem,
    AuthorQuery,
    AuthorRead,
    AuthorUpdate,
)
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
from app.models import Author
from app.pagination import LIST_HEADERS, Page, link_header

router = APIRouter(prefix="/authors", tags=["authors"])

NOT_AN_AUTHOR = "No author has this id."


def author_etag(author: Author) -> str:
    """The tag of the author as `GET /authors/{id}` shows it, books included."""
    return etag(author.version, *((book.id, book.version) for book in author.books))


@router.post(
    "",
    status_code=201,
    response_model=AuthorRead,
    responses={201: {"headers": CREATED_HEADERS}, **problem_responses(409)},
)
async def create_author(
    data: AuthorCreate,
    authors: AuthorRepositoryDep,
    idempotency: IdempotencyDep,
    response: Response,
) -> AuthorRead | Response:
    """Create an author; a retry with the same `Idempotency-Key` replays the first answer."""
    if (replay := await idempotency.replay()) is not None:
        return replay
    author = await authors.create(data)
    created = AuthorRead.model_validate(author)
    # A new author has no books yet.
    headers = {"Location": f"/authors/{author.id}", "ETag": etag(author.version)}
    await idempotency.save(201, created, headers)
    response.headers.update(headers)
    return created


@router.get("", responses={200: {"headers": LIST_HEADERS}, **problem_responses()})
async def list_authors(
    query: Annotated[AuthorQuery, Query()],
    authors: AuthorRepositoryDep,
    request: Request,
    response: Response,
) -> Page[AuthorListItem]:
    """List authors with their book counts, filtered, sorted and paginated."""
    found, total = await authors.search(query)
    page = Page[AuthorListItem].of(found, total, query)
    response.headers["Link"] = link_header(request.url, page)
    return page


@router.get(
    "/{author_id}",
    response_model=AuthorDetail,
    responses={200: {"headers": READ_HEADERS}, **NOT_MODIFIED, **problem_responses(404)},
)
async def get_author(
    author_id: uuid.UUID,
    authors: AuthorRepositoryDep,
    response: Response,
    if_none_match: IfNoneMatch = None,
) -> AuthorDetail | Response:
    """Get one author with all of their books."""
    author = await authors.get(author_id)
    if author is None:
        raise NotFound(NOT_AN_AUTHOR)
    tag = author_etag(author)
    if none_match(if_none_match, tag):
        return Response(status_code=304, headers={"ETag": tag})
    response.headers["ETag"] = tag
    return AuthorDetail.model_validate(author)


@router.patch(
    "/{author_id}",
    responses={200: {"headers": READ_HEADERS}, **problem_responses(404, 412)},
)
async def update_author(
    author_id: uuid.UUID,
    data: AuthorUpdate,
    authors: AuthorRepositoryDep,
    response: Response,
    if_match: IfMatch = None,
) -> AuthorRead:
    """Change some of an author's fields; `null` clears `bio`."""
    author = await authors.get_for_update(author_id)
    if author is None:
        raise NotFound(NOT_AN_AUTHOR)
    check_if_match(if_match, author_etag(author))
    await authors.update(author, data)
    response.headers["ETag"] = author_etag(author)
    return AuthorRead.model_validate(author)


@router.delete(
    "/{author_id}",
    status_code=204,
    response_class=Response,
    responses=problem_responses(404, 409, 412),
)
async def delete_author(
    author_id: uuid.UUID,
    authors: AuthorRepositoryDep,
    cascade: Annotated[bool, Query(description="Delete the author's books too.")] = False,
    if_match: IfMatch = None,
) -> None:
    """Delete an author; one who still has books needs `cascade=true`."""
    author = await authors.get_for_update(author_id)
    if author is None:
        raise NotFound(NOT_AN_AUTHOR)
    check_if_match(if_match, author_etag(author))
    await authors.delete(author, cascade=cascade)
