"""The statements that count a book list's facets: one per facet, each grouping the matching
books by the facet's value and keeping the values with the most books."""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends

# SQLModel's select() is typed for table columns; these select labels and aggregates.
from sqlalchemy import func, literal_column
from sqlalchemy import select as select_columns
from sqlmodel import col, select

from app.books.facets import BookFacets, FacetName
from app.books.repository import book_filters
from app.books.schemas import BookQuery
from app.db.session import SessionDep, on_session
from app.models import Author, Book, BookAuthor, BookTag, Tag
from app.search.sql import book_match

COUNT = func.count().label("count")


def linked_counts(
    book_id: Any, target_id: Any, target: type[Any], shown: list[Any], filters: list[Any], size: int
) -> Any:
    """The `size` rows of `target` (tags, authors) linked to the most books that match
    `filters`, as their `shown` columns and count, ties by those columns in order.

    Links are counted per target id, on the link table's index. Only the targets with at least
    the count of the `size`th most linked one can be shown, so only those are joined for their
    names: with many authors of a few books each, most are not.
    """
    linked = select_columns(target_id.label("target_id"), COUNT).group_by(target_id)
    if filters:
        linked = linked.where(col(book_id).in_(select(Book.id).where(*filters)))
    counted = linked.cte("counted")
    least = (
        select_columns(counted.c.count)
        .order_by(counted.c.count.desc())
        .offset(size - 1)
        .limit(1)
        .scalar_subquery()
    )
    return (
        select_columns(*shown, counted.c.count)
        .join_from(counted, target, counted.c.target_id == target.id)
        .where(counted.c.count >= func.coalesce(least, 0))
        .order_by(counted.c.count.desc(), *shown)
        .limit(size)
    )


def value_counts(value: Any, shown: Any, filters: list[Any], size: int) -> Any:
    """The `size` values of a book column that the most matching books have, each `shown` as
    the least of its spellings, ties by that; books without a value left out."""
    values = select_columns(value.label("value"), shown.label("shown")).where(
        col(value).is_not(None), *filters
    )
    rows = values.subquery("book_value")
    shown_value = func.min(rows.c.shown).label("value")
    return (
        select_columns(shown_value, COUNT)
        .group_by(rows.c.value)
        .order_by(COUNT.desc(), shown_value)
        .limit(size)
    )


def decade_counts(filters: list[Any], size: int) -> Any:
    """The `size` decades in which the most matching books were published, ties by decade.

    Books are counted per year first, in the order of the year's index, and the years' counts
    then per decade: floor(year / 10) * 10 on both databases, whose % keeps the sign of the
    dividend, so a negative year's remainder is brought into 0..9 before it is taken off.
    """
    year = col(Book.published_year)
    years = (
        select_columns(year.label("year"), COUNT)
        .where(year.is_not(None), *filters)
        .group_by(year)
        .subquery("years")
    )
    # Literal tens keep the expression free of parameters, so that PostgreSQL sees the
    # GROUP BY and the select list as the same expression.
    ten: Any = literal_column("10")
    value = (years.c.year - (years.c.year % ten + ten) % ten).label("value")
    total = func.sum(years.c.count).label("count")
    return select_columns(value, total).group_by(value).order_by(total.desc(), value).limit(size)


FacetStatement = Callable[[list[Any], int], Any]
# Each facet's statement, for the WHERE terms of the matching books and the facet's size.
FACETS: dict[FacetName, FacetStatement] = {
    "tags": lambda filters, size: linked_counts(
        BookTag.book_id, BookTag.tag_id, Tag, [col(Tag.name)], filters, size
    ),
    "authors": lambda filters, size: linked_counts(
        BookAuthor.book_id,
        BookAuthor.author_id,
        Author,
        [col(Author.name), col(Author.id)],
        filters,
        size,
    ),
    "publisher": lambda filters, size: value_counts(
        Book.publisher_folded, Book.publisher, filters, size
    ),
    "language": lambda filters, size: value_counts(Book.language, Book.language, filters, size),
    "series": lambda filters, size: value_counts(Book.series_folded, Book.series, filters, size),
    "decade": decade_counts,
}


class BookFacetRepository:
    """Counts the facets of a book list."""

    def __init__(self, session: SessionDep) -> None:
        self.session = session

    async def count(self, query: BookQuery) -> BookFacets:
        """The query's facets over every book that matches its filters and search: the search
        as the list filters by it (`Match.filter`), not as it ranks."""
        dialect = self.session.get_bind().dialect.name
        filters = book_filters(query, dialect)
        if (parsed := query.parsed) is not None:
            typos = await query.match_typos(self.session)
            filters.append(book_match(parsed, typos, Book.id).filter)
        found: dict[str, list[dict[str, Any]]] = {}
        for name in query.facet_names:
            rows = await self.session.exec(FACETS[name](filters, query.facet_size))
            found[name] = [facet_count(name, row) for row in rows]
        return BookFacets.model_validate(found)


def facet_count(name: FacetName, row: Any) -> dict[str, Any]:
    """A facet's value and count as `meta.facets` shows them; an author is `{id, name}`."""
    if name == "authors":
        return {"value": {"id": row.id, "name": row.name}, "count": row.count}
    return {"value": row[0], "count": row.count}


BookFacetRepositoryDep = Annotated[BookFacetRepository, Depends(on_session(BookFacetRepository))]
