"""Small pieces of SQL shared by the repositories."""

import math
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, and_, func, or_
from sqlalchemy.orm import QueryableAttribute
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.errors import Unprocessable
from app.pagination import OTHER_LIST, PageQuery


def contains_text(column: Any, text: str) -> ColumnElement[bool]:
    """Substring match in which `%` and `_` are literal; fold both sides first to ignore case."""
    return column.contains(text, autoescape=True)  # type: ignore[no-any-return]


def relation(attribute: Any) -> QueryableAttribute[Any]:
    """A relationship as loader options need it; SQLModel types it as the related objects."""
    return cast(QueryableAttribute[Any], attribute)


def nullable(column: Any) -> bool:
    return bool(getattr(getattr(column, "expression", column), "nullable", False))


def sort_columns(
    query: PageQuery, columns: Mapping[str, Any], tie_breaker: Any
) -> list[tuple[Any, bool]]:
    """The `(column, descending)` pairs of the query's sort, ending with the id in the
    direction of the last field, so the order is total."""
    keys = [(columns[name], descending) for name, descending in query.sort_keys()]
    return [*keys, (tie_breaker, keys[-1][1])]


def order_by(query: PageQuery, columns: Mapping[str, Any], tie_breaker: Any) -> list[Any]:
    """Turn the query's sort into ORDER BY terms that end with the id, so the order is total."""
    terms: list[Any] = []
    for column, descending in sort_columns(query, columns, tie_breaker):
        term = column.desc() if descending else column.asc()
        if nullable(column):
            # NULLs sort as if larger than any value, the same on SQLite and PostgreSQL.
            term = term.nulls_first() if descending else term.nulls_last()
        terms.append(term)
    return terms


def after_cursor(
    query: PageQuery, columns: Mapping[str, Any], tie_breaker: Any
) -> list[ColumnElement[bool]]:
    """WHERE terms keeping the rows that `order_by` puts after the query's cursor; none without.

    For a sort `(a, b, id)` that is `a after x OR (a = x AND b after y) OR (a = x AND b = y AND
    id after z)`, where "after" follows each direction, and NULLs sort as larger than any value.
    """
    if query.after is None:
        return []
    keys = sort_columns(query, columns, tie_breaker)
    values = [
        column_value(column, value) for (column, _), value in zip(keys, query.after, strict=True)
    ]
    alternatives: list[ColumnElement[bool]] = []
    equal: list[ColumnElement[bool]] = []
    for (column, descending), value in zip(keys, values, strict=True):
        if (beyond := later(column, descending, value)) is not None:
            alternatives.append(and_(*equal, beyond))
        equal.append(column.is_(None) if value is None else column == value)
    return [*leading_bound(*keys[0], values[0]), or_(*alternatives)]


def later(column: Any, descending: bool, value: Any) -> ColumnElement[bool] | None:
    """Rows whose `column` sorts strictly after `value`; None if no value does."""
    if value is None:
        # NULL is the largest: nothing follows it ascending, every value follows it descending.
        return column.is_not(None) if descending else None
    if descending:
        return column < value  # type: ignore[no-any-return]
    return or_(column > value, column.is_(None)) if nullable(column) else column > value


def leading_bound(column: Any, descending: bool, value: Any) -> list[ColumnElement[bool]]:
    """A range on the first sort column, implied by the OR that follows: it lets the database
    start reading an index at the cursor instead of filtering every row before it."""
    if value is None:
        return [] if descending else [column.is_(None)]
    if descending:
        return [column <= value]
    return [] if nullable(column) else [column >= value]


def column_value(column: Any, value: Any) -> Any:
    """A cursor's JSON value as the column compares it; a 422 if it cannot be one.

    The digest only shows that a cursor was not edited by accident, so values are checked as
    strictly as query parameters: what the database would refuse must not become a 500.
    """
    sql_type = getattr(column, "expression", column).type
    # A TypeDecorator (UTCDateTime, SQLModel's AutoString) knows its Python type by its impl.
    kind = getattr(sql_type, "impl_instance", sql_type).python_type
    if value is None and nullable(column):
        return None
    try:
        if kind is datetime and isinstance(value, str):
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is not None:
                return moment.astimezone(UTC)
        elif kind is uuid.UUID and isinstance(value, str):
            return uuid.UUID(value)
        elif kind is int and type(value) is int and abs(value) < 2**31:
            return value
        elif kind is float and type(value) in (int, float) and math.isfinite(value):
            return float(value)
        elif kind is str and isinstance(value, str) and "\x00" not in value:
            return value
    except (ValueError, OverflowError):
        pass
    raise Unprocessable.at(["query", "cursor"], OTHER_LIST, "cursor_mismatch")


async def count(session: AsyncSession, model: type[Any], filters: Sequence[Any]) -> int:
    """Count the rows of a table that match the filters, in SQL."""
    total = await session.exec(select(func.count()).select_from(model).where(*filters))
    return total.one()


async def count_matching(
    session: AsyncSession, model: type[Any], filters: Sequence[Any], query: PageQuery, found: int
) -> int | None:
    """How many rows match in all, given that the page at `query` found `found` of them;
    None if the client did not ask.

    A page that is not full, and not past the end, already tells when its position is known:
    by page number, or at the start of a cursor walk. After a cursor, how many rows come
    before it is not known, so it counts.
    """
    if not query.counts:
        return None
    if query.after is None and found < query.limit and (found > 0 or query.offset == 0):
        return query.offset + found
    return await count(session, model, filters)
