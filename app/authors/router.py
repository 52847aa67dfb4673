from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.authors.dependencies import AuthorDep, AuthorToChangeDep
from app.authors.repository import AuthorRepositoryDep
from app.authors.schemas import (
    AuthorCreate,
    AuthorDetail,
    AuthorListItem,
    AuthorQueryDep,
    AuthorRead,
    AuthorUpdate,
)
from app.collection import Collection, add_shared_routes
from app.errors import problem_responses

router = APIRouter(prefix="/authors", tags=["authors"])

add_shared_routes(
    router,
    Collection(
        name="author",
        create=AuthorCreate,
        update=AuthorUpdate,
        written=AuthorRead,
        shown=AuthorDetail,
        listed=AuthorListItem,
        query=AuthorQueryDep,
        repository=AuthorRepositoryDep,
        loaded=AuthorDep,
        to_change=AuthorToChangeDep,
    ),
    docs={
        "create": (
            "Create an author; a retry with the same `Idempotency-Key` replays the first answer."
        ),
        "list": "List authors with their book counts, filtered, sorted and paginated.",
        "get": "Get one author with all of their books.",
        "update": "Change some of an author's fields; `null` clears `bio`.",
    },
    update_problems=[404, 412],
)


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
