import uuid
from typing import Annotated

from fastapi import Query
from pydantic import ConfigDict
from sqlalchemy import func
from sqlmodel import Field, SQLModel, select

from app.kit.pagination import Page, PageQuery
from app.kit.schemas import Count
from app.kit.sorting import Sorting
from app.models import BookTag, Tag, TagName

# How many books carry the tag, counted by the database for each listed tag.
BOOK_COUNT = (
    select(func.count())
    .where(BookTag.tag_id == Tag.id)
    .correlate(Tag)
    .scalar_subquery()
    .label("book_count")
)


class TagRead(SQLModel):
    # A tag the imports example makes.
    model_config = ConfigDict(  # type: ignore[assignment]
        json_schema_extra={
            "examples": [
                {"id": "01a20ce6-7aa8-7f4d-9da1-494c73cf256d", "name": "utopia", "book_count": 1}
            ]
        }
    )

    id: uuid.UUID
    name: TagName
    book_count: Count


class TagPage(Page[TagRead]):
    """A page of tags."""


class TagQuery(PageQuery):
    sorting = Sorting({"name": Tag.name, "book_count": BOOK_COUNT}, "name", Tag.id)

    q: TagName | None = Field(default=None, description="Part of the name, any case.")


TagQueryDep = Annotated[TagQuery, Query()]
