"""The authors API: list, create, read, change and delete authors."""

from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.authors.repository import AuthorDep, AuthorRepositoryDep, AuthorToChangeDep
from app.authors.schemas import (
    AuthorCreate,
    AuthorDetail,
    AuthorPage,
    AuthorQueryDep,
    AuthorRead,
    AuthorUpdate,
)
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

router = APIRouter(prefix="/authors", tags=["authors"])


@router.get("", responses=LIST_RESPONSES)
async def list_authors(
    query: AuthorQueryDep, authors: AuthorRepositoryDep, pager: PagerDep
) -> AuthorPage:
    """List authors, filtered, sorted and paginated."""
    return pager.answer(AuthorPage, await authors.page(query), query)


@router.post(
    "", status_code=201, response_model=AuthorRead, responses=created_responses(router.prefix)
)
async def create_author(
    data: AuthorCreate, authors: AuthorRepositoryDep, idempotency: IdempotencyDep
) -> AuthorDetail | Response:
    """Create one author; a retry with the same `Idempotency-Key` replays the first answer."""
    return await idempotency.create(lambda: authors.create(data), router.prefix, AuthorRead)


@router.get("/{author_id}", response_model=AuthorDetail, responses=READ_RESPONSES)
async def get_author(author: AuthorDep, conditional: ConditionalDep) -> AuthorDetail | Response:
    """Get one author by its id."""
    return conditional.answer(author)


@router.patch("/{author_id}", response_model=AuthorRead, responses=updated_responses(404, 412))
async def update_author(
    author: AuthorToChangeDep,
    data: AuthorUpdate,
    authors: AuthorRepositoryDep,
    response: Response,
) -> AuthorDetail:
    """Change some of one author's fields; the others keep their values."""
    return tagged(response, await authors.update(author, data))


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
