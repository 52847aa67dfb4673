from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.errors import problem_responses
from app.pagination import LIST_HEADERS, Page, answer
from app.tags.repository import TagRepositoryDep
from app.tags.schemas import TagQuery, TagRead

router = APIRouter(prefix="/tags", tags=["tags"])


@router.get("", responses={200: {"headers": LIST_HEADERS}, **problem_responses()})
async def list_tags(
    query: Annotated[TagQuery, Query()],
    tags: TagRepositoryDep,
    request: Request,
    response: Response,
) -> Page[TagRead]:
    """List tags with how many books carry each."""
    return answer(await tags.search(query), query, request, response)
