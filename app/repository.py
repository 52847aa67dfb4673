"""Small pieces of SQL shared by the repositories."""

from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import ColumnElement, func
from sqlalchemy.orm import QueryableAttribute
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.pagination import PageQuery


def contains_text(column: Any, text: str) -> ColumnElement[bool]:
    """Substring match in which `%` and `_` are literal; fold both sides first to ignore case."""
    return column.contains(text, autoescape=True)  # type: ignore[no-any-return]


def relation(attribute: Any) -> QueryableAttribute[Any]:
    """A relationship as loader options need it; SQLModel types it as the related objects."""
    return cast(QueryableAttribute[Any], attribute)


def order_by(query: PageQuery, columns: Mapping[str, Any], tie_breaker: Any) -> list[Any]:
    """Turn the query's sort into ORDER BY terms that end with the id, so the order is total."""
    terms: list[Any] = []
    for name, descending in query.sort_keys():
        column = columns[name]
        term = column.desc() if descending else column.asc()
        if getattr(getattr(column, "expression", column), "nullable", False):
            # NULLs sort as if larger than any value, the same on SQLite and PostgreSQL.
            term = term.nulls_first() if descending else term.nulls_last()
        terms.append(term)
    last_descending = query.sort_keys()[-1][1]
    terms.append(tie_breaker.desc() if last_descending else tie_breaker.asc())
    return terms


async def count(session: AsyncSession, model: type[Any], filters: Sequence[Any]) -> int:
    """Count the rows of a table that match the filters, in SQL."""
    total = await session.exec(select(func.count()).select_from(model).where(*filters))
    return total.one()


async def count_matching(
    session: AsyncSession, model: type[Any], filters: Sequence[Any], query: PageQuery, found: int
) -> int:
    """How many rows match in all, given that the page at `query` found `found` of them.

    A page that is not full, and not past the end, already tells: no count query needed.
    """
    if found < query.per_page and (found > 0 or query.offset == 0):
        return query.offset + found
    return await count(session, model, filters)
