from typing import TYPE_CHECKING

from sqlalchemy import Index, func
from sqlmodel import Field, Relationship, SQLModel

from app.models.base import Entity, version_column

if TYPE_CHECKING:
    from app.models.book import Book

_version = version_column()


class AuthorBase(SQLModel):
    name: str = Field(max_length=200)
    bio: str | None = Field(default=None, max_length=5000)


class Author(Entity, AuthorBase, table=True):
    __table_args__ = (
        Index("ix_author_name_id", "name", "id"),
        Index("ix_author_created_at_id", "created_at", "id"),
        Index("ix_author_updated_at_id", "updated_at", "id"),
    )
    __mapper_args__ = {"version_id_col": _version}

    version: int = Field(default=1, sa_column=_version)
    books: list["Book"] = Relationship(
        back_populates="author",
        sa_relationship_kwargs={
            "lazy": "raise",
            "passive_deletes": "all",
            "order_by": "(Book.published_year.asc().nulls_last(), Book.title, Book.id)",
        },
    )


# Case-insensitive exact match on the name (`?name=`) is served by this expression index.
Index("ix_author_lower_name", func.lower(Author.name))
