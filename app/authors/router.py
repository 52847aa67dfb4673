from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.authors.dependencies import AuthorDep, AuthorToChangeDep
from app.authors.repository import AuthorRepositoryDep
from app.authors.schemas import (
    AuthorCreate,
    AuthorDetail,
    AuthorListItem,
    AuthorQuery,
    AuthorRead,
    AuthorUpdate,
)
from app.errors import problem_responses
from app.etag import CREATED_HEADERS, NOT_MODIFIED, READ_HEADERS, IfNoneMatch, tagged
from app.idempotency.guard import IdempotencyDep
from app.pagination import LIST_HEADERS, Page, answer

router = APIRouter(prefix="/authors", tags=["authors"])


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
    headers = {"Location": f"/authors/{author.id}", "ETag": author.etag}
    await idempotency.save(201, AuthorRead.model_validate(author, from_attributes=True), headers)
    response.headers.update(headers)
    return author


@router.get("", responses={200: {"headers": LIST_HEADERS}, **problem_responses()})
async def list_authors(
    query: Annotated[AuthorQuery, Query()],
    authors: AuthorRepositoryDep,
    request: Request,
    response: Response,
) -> Page[AuthorListItem]:
    """List authors with their book counts, filtered, sorted and paginated."""
    return answer(await authors.search(query), query, request, response)


@router.get(
    "/{author_id}",
    response_model=AuthorDetail,
    responses={200: {"headers": READ_HEADERS}, **NOT_MODIFIED, **problem_responses(404)},
)
async def get_author(
    author: AuthorDep, response: Response, if_none_match: IfNoneMatch = None
) -> AuthorDetail | Response:
    """Get one author with all of their books."""
    return tagged(author, response, if_none_match)


@router.patch(
    "/{author_id}",
    response_model=AuthorRead,
    responses={200: {"headers": READ_HEADERS}, **problem_responses(404, 412)},
)
async def update_author(
    author: AuthorToChangeDep, data: AuthorUpdate, authors: AuthorRepositoryDep, response: Response
) -> AuthorDetail:
    """Change some of an author's fields; `null` clears `bio`."""
    changed = await authors.update(author, data)
    response.headers["ETag"] = changed.etag
    return changed


@router.delete(
    "/{author_id}",
    status_code=204,
    response_class=Response,
    responses=problem_responses(404, 409, 412),
)
async def delete_author(
    author: AuthorToChangeDep,
    authors: AuthorRepositoryDep,
    cascade: Annotated[bool, Query(description="Delete the author's books too.")] = False,
) -> None:
    """Delete an author; one who still has books needs `cascade=true`."""
    await authors.delete(author, cascade=cascade)
