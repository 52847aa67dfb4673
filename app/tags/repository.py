from typing import Annotated

from fastapi import Depends
from sqlmodel import select

from app.db.session import on_session
from app.kit.pagination import Slice, paginate
from app.kit.repository import Repository, contains_text
from app.models import Tag, tag_name
from app.tags.schemas import BOOK_COUNT, TagQuery, TagRead

TAGS = select(Tag.id, Tag.name, BOOK_COUNT)


class TagRepository(Repository[Tag]):
    model = Tag

    async def page(self, query: TagQuery) -> Slice[TagRead]:
        """One page of tags with how many books carry each."""
        # Names are stored lower-cased by Python; SQLite's lower() folds only ASCII, so the
        # query is folded the same way here, or "É" would never find "é".
        filters = [] if query.q is None else [contains_text(Tag.name, tag_name(query.q))]
        found = await paginate(self.session, query, TAGS, filters, Tag)
        return found.with_items([TagRead.model_validate(row._asdict()) for row in found.items])


tag_repository = on_session(TagRepository)
TagRepositoryDep = Annotated[TagRepository, Depends(tag_repository)]
