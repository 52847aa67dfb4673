from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field as Limits
from sqlalchemy import Index, event
from sqlmodel import Field, Relationship, SQLModel

from app.models.base import Entity, fold, search_column, version_column
from app.models.book_author import BookAuthor
from app.search.text import search_text

if TYPE_CHECKING:
    from app.models.book import Book

# Each field's limits, written once: the table's column lengths, the request bodies and the
# query parameters all use these.
AuthorName = Annotated[str, Limits(min_length=1, max_length=200)]
AuthorBio = Annotated[str | None, Limits(min_length=1, max_length=5000)]

_version = version_column()


class AuthorBase(SQLModel):
    name: AuthorName
    bio: AuthorBio = None


class Author(Entity, AuthorBase, table=True):
    __table_args__ = (
        Index("ix_author_name_id", "name", "id"),
        # `?name=` finds the rows and gives them in the default order, with no sort of its own.
        Index("ix_author_name_folded_name_id", "name_folded", "name", "id"),
        Index("ix_author_created_at_id", "created_at", "id"),
        Index("ix_author_updated_at_id", "updated_at", "id"),
    )
    __mapper_args__ = {"version_id_col": _version}

    # The name case-folded, kept by the ORM, for `?name=` and `?q=`.
    name_folded: str = ""
    # The name and bio as the search index reads them (app/search/text.py), kept by the ORM.
    name_search: str = search_column("name")
    bio_search: str = search_column("bio")
    version: int = Field(default=1, sa_column=_version)
    books: list["Book"] = Relationship(
        back_populates="authors",
        link_model=BookAuthor,
        sa_relationship_kwargs={
            "lazy": "raise",
            # Links are written through Core (app/books/repository.py), never by the ORM: so
            # deleting an author who still has books leaves the links for the database to
            # refuse.
            "viewonly": True,
            "order_by": "(Book.published_year.asc().nulls_last(), Book.title, Book.id)",
        },
    )


@event.listens_for(Author, "before_insert")
@event.listens_for(Author, "before_update")
def fold_name(_mapper: Any, _connection: Any, author: Author) -> None:
    author.name_folded = fold(author.name)
    author.name_search = search_text(author.name)
    author.bio_search = search_text(author.bio)


# The table, for authors read and written through Core.
AUTHOR = SQLModel.metadata.tables["author"]
