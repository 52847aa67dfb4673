import uuid
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field as Limits
from sqlalchemy import Index, event
from sqlmodel import Field, Relationship, SQLModel

from app.models.base import Entity, fold, search_column, version_column
from app.models.book_tag import BookTag
from app.search.text import search_text

if TYPE_CHECKING:
    from app.models.author import Author
    from app.models.tag import Tag

# Each field's limits, written once (see AuthorName).
BookTitle = Annotated[str, Limits(min_length=1, max_length=500)]
BookDescription = Annotated[str | None, Limits(min_length=1, max_length=20000)]
# An ISBN is stored as 13 digits; what clients send may have hyphens and spaces around them.
ISBN_LENGTH = 13
MAX_ISBN_INPUT = 32
MIN_YEAR = -3000

_version = version_column()


class BookBase(SQLModel):
    title: BookTitle
    isbn: str | None = Field(default=None, max_length=ISBN_LENGTH, unique=True)
    published_year: int | None = None
    description: BookDescription = None


class Book(Entity, BookBase, table=True):
    __table_args__ = (
        Index("ix_book_title_id", "title", "id"),
        Index("ix_book_author_id_title_id", "author_id", "title", "id"),
        Index("ix_book_published_year_id", "published_year", "id"),
        Index("ix_book_created_at_id", "created_at", "id"),
        Index("ix_book_updated_at_id", "updated_at", "id"),
    )
    __mapper_args__ = {"version_id_col": _version}

    # Deleting an author who still has books fails here; cascading is done explicitly.
    author_id: uuid.UUID = Field(foreign_key="author.id", ondelete="RESTRICT")
    # The title case-folded, kept by the ORM, for `?q=`.
    title_folded: str = ""
    # The title and description as the search index reads them, kept by the ORM.
    title_search: str = search_column("title")
    description_search: str = search_column("description")
    version: int = Field(default=1, sa_column=_version)
    author: "Author" = Relationship(
        back_populates="books", sa_relationship_kwargs={"lazy": "raise"}
    )
    tags: list["Tag"] = Relationship(
        back_populates="books",
        link_model=BookTag,
        sa_relationship_kwargs={"lazy": "raise", "order_by": "Tag.name", "passive_deletes": True},
    )


def derived_columns(title: str, description: str | None) -> dict[str, str]:
    """The columns kept from a book's title and description: for `q`, and for the index."""
    return {
        "title_folded": fold(title),
        "title_search": search_text(title),
        "description_search": search_text(description),
    }


@event.listens_for(Book, "before_insert")
@event.listens_for(Book, "before_update")
def fold_title(_mapper: Any, _connection: Any, book: Book) -> None:
    for name, value in derived_columns(book.title, book.description).items():
        setattr(book, name, value)
