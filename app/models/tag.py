from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field as Limits
from sqlalchemy import Index, event
from sqlmodel import Field, Relationship, SQLModel

from app.models.base import Entity, search_column, version_column
from app.models.book_tag import BookTag
from app.search.text import search_text

if TYPE_CHECKING:
    from app.models.book import Book

# The limits of a tag name, written once (see AuthorName).
MAX_TAG_LENGTH = 50
TagName = Annotated[str, Limits(min_length=1, max_length=MAX_TAG_LENGTH)]

_version = version_column()


class TagBase(SQLModel):
    name: TagName = Field(unique=True)


class Tag(Entity, TagBase, table=True):
    # The default sort is (name, id): with the unique index on name alone, PostgreSQL would
    # still sort each page by id.
    __table_args__ = (Index("ix_tag_name_id", "name", "id"),)
    __mapper_args__ = {"version_id_col": _version}

    version: int = Field(default=1, sa_column=_version)
    # The name as the search index reads it, kept by the ORM.
    name_search: str = search_column("name")
    books: list["Book"] = Relationship(
        back_populates="tags", link_model=BookTag, sa_relationship_kwargs={"lazy": "raise"}
    )


@event.listens_for(Tag, "before_insert")
@event.listens_for(Tag, "before_update")
def fold_name(_mapper: Any, _connection: Any, tag: Tag) -> None:
    tag.name_search = search_text(tag.name)


# The table, for tags read and written through Core.
TAG = SQLModel.metadata.tables["tag"]
