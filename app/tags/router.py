from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.errors import problem_responses
from app.pagination import LIST_HEADERS, Page, link_header
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
    found, total = await tags.search(query)
    page = Page[TagRead].of(found, total, query)
    response.headers["Link"] = link_header(request.url, page)
    return page
