from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field as Limits
from sqlalchemy import Index, event
from sqlmodel import Field, Relationship, SQLModel

from app.models.base import Entity, fold, search_column, version_column
from app.models.book_author import BookAuthor
from app.models.book_tag import BookTag
from app.search.text import search_text

if TYPE_CHECKING:
    from app.models.author import Author
    from app.models.tag import Tag

# Each field's limits, written once (see AuthorName).
BookTitle = Annotated[str, Limits(min_length=1, max_length=500)]
MAX_DESCRIPTION_LENGTH = 20000
BookDescription = Annotated[str | None, Limits(min_length=1, max_length=MAX_DESCRIPTION_LENGTH)]
# An ISBN is stored as 13 digits; what clients send may have hyphens and spaces around them.
ISBN_LENGTH = 13
MAX_ISBN_INPUT = 32
# A year is refused past next year; the schemas declare the last four-digit one as the bound
# they can state once and for all.
MIN_YEAR = -3000
MAX_YEAR = 9999
PublishedYear = Annotated[
    int, Limits(ge=MIN_YEAR, le=MAX_YEAR, description="From -3000 to next year.")
]
BookPublisher = Annotated[str | None, Limits(min_length=1, max_length=200)]
BookSeries = Annotated[str | None, Limits(min_length=1, max_length=200)]
# A BCP 47 tag in canonical form; RFC 5646 asks implementations to take at least 35 characters.
MAX_LANGUAGE_LENGTH = 64

_version = version_column()


class BookBase(SQLModel):
    title: BookTitle
    isbn: str | None = Field(default=None, max_length=ISBN_LENGTH, unique=True)
    published_year: PublishedYear | None = None
    description: BookDescription = None
    publisher: BookPublisher = None
    language: str | None = Field(default=None, max_length=MAX_LANGUAGE_LENGTH)
    series: BookSeries = None
    series_position: float | None = None


class Book(Entity, BookBase, table=True):
    __table_args__ = (
        Index("ix_book_title_id", "title", "id"),
        Index("ix_book_published_year_id", "published_year", "id"),
        Index("ix_book_created_at_id", "created_at", "id"),
        Index("ix_book_updated_at_id", "updated_at", "id"),
        # `?publisher=`, `?language=` and `?series=` find their rows in the default order.
        Index("ix_book_publisher_folded_title_id", "publisher_folded", "title", "id"),
        Index("ix_book_language_title_id", "language", "title", "id"),
        Index("ix_book_series_folded_title_id", "series_folded", "title", "id"),
        # An import finds a book without an ISBN by its title (with its authors and year).
        Index("ix_book_title_search", "title_search"),
    )
    __mapper_args__ = {"version_id_col": _version}

    # The title case-folded, kept by the ORM, for `?q=`; the publisher and series likewise,
    # for their filters.
    title_folded: str = ""
    publisher_folded: str | None = None
    series_folded: str | None = None
    # The title and description as the search index reads them, kept by the ORM.
    title_search: str = search_column("title")
    description_search: str = search_column("description")
    series_search: str = search_column("series")
    version: int = Field(default=1, sa_column=_version)
    authors: list["Author"] = Relationship(
        back_populates="books",
        link_model=BookAuthor,
        # Written through Core, in order; see Author.books.
        sa_relationship_kwargs={
            "lazy": "raise",
            "order_by": "BookAuthor.position",
            "viewonly": True,
        },
    )
    tags: list["Tag"] = Relationship(
        back_populates="books",
        link_model=BookTag,
        sa_relationship_kwargs={"lazy": "raise", "order_by": "Tag.name", "passive_deletes": True},
    )


def derived_columns(
    title: str, description: str | None, publisher: str | None, series: str | None
) -> dict[str, str | None]:
    """The columns kept from a book's fields: for `q`, the filters and the search index."""
    return {
        "title_folded": fold(title),
        "title_search": search_text(title),
        "description_search": search_text(description),
        "publisher_folded": None if publisher is None else fold(publisher),
        "series_folded": None if series is None else fold(series),
        "series_search": search_text(series),
    }


@event.listens_for(Book, "before_insert")
@event.listens_for(Book, "before_update")
def fold_title(_mapper: Any, _connection: Any, book: Book) -> None:
    derived = derived_columns(book.title, book.description, book.publisher, book.series)
    for name, value in derived.items():
        setattr(book, name, value)


# The table, for books read and written through Core.
BOOK = SQLModel.metadata.tables["book"]
