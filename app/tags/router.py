from fastapi import APIRouter

from app.kit.pagination import LIST_RESPONSES, Page, PagerDep
from app.tags.repository import TagRepositoryDep
from app.tags.schemas import TagQueryDep, TagRead

router = APIRouter(prefix="/tags", tags=["tags"])


@router.get("", responses=LIST_RESPONSES)
async def list_tags(query: TagQueryDep, tags: TagRepositoryDep, pager: PagerDep) -> Page[TagRead]:
    """List tags with how many books carry each."""
    return pager.answer(await tags.page(query), query)
