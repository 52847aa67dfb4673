from fastapi import APIRouter

from app.kit.pagination import LIST_RESPONSES, PagerDep
from app.tags.repository import TagRepositoryDep
from app.tags.schemas import TagPage, TagQueryDep

router = APIRouter(prefix="/tags", tags=["tags"])


@router.get("", responses=LIST_RESPONSES)
async def list_tags(query: TagQueryDep, tags: TagRepositoryDep, pager: PagerDep) -> TagPage:
    """List tags with how many books carry each."""
    return pager.answer(TagPage, await tags.page(query), query)
