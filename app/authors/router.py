from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.authors.repository import AuthorRepositoryDep
from app.authors.schemas import (
    AuthorCreate,
    AuthorDetail,
    AuthorListItem,
    AuthorQueryDep,
    AuthorRead,
    AuthorUpdate,
)
from app.collection import Collection
from app.errors import problem_responses

router = APIRouter(prefix="/authors", tags=["authors"])
authors = Collection(router, "author", AuthorRepositoryDep)
authors.add_reads(AuthorQueryDep, listed=AuthorListItem, shown=AuthorDetail)
authors.add_writes(AuthorCreate, AuthorUpdate, written=AuthorRead, update_problems=[404, 412])


@router.delete(
    "/{author_id}",
    status_code=204,
    response_class=Response,
    responses=problem_responses(404, 409, 412),
)
async def delete_author(
    author: Annotated[AuthorDetail, authors.to_change],
    repository: AuthorRepositoryDep,
    cascade: Annotated[bool, Query(description="Delete the author's books too.")] = False,
) -> None:
    """Delete an author; one who still has books needs `cascade=true`."""
    await repository.delete(author, cascade=cascade)
