from typing import TYPE_CHECKING, Annotated

from pydantic import Field as Limits
from sqlalchemy import Index
from sqlmodel import Field, Relationship, SQLModel

from app.models.base import Entity, version_column
from app.models.book_tag import BookTag

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
    books: list["Book"] = Relationship(
        back_populates="tags", link_model=BookTag, sa_relationship_kwargs={"lazy": "raise"}
    )
