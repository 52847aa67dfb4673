"""Small pieces of SQL shared by the repositories."""

import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import JSON, ColumnElement, func, literal, literal_column, type_coerce
from sqlalchemy import select as select_columns
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import QueryableAttribute
from sqlmodel import SQLModel, col, insert, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.session import SessionDep
from app.db.sqlite_driver import LATER
from app.models import Entity

Row = TypeVar("Row", bound=Entity)


def contains_text(column: Any, text: str) -> ColumnElement[bool]:
    """Substring match in which `%` and `_` are literal; fold both sides first to ignore case."""
    return column.contains(text, autoescape=True)  # type: ignore[no-any-return]


async def insert_missing(
    session: AsyncSession, model: type[SQLModel], rows: list[dict[str, Any]], key: str
) -> None:
    """Insert the rows whose `key` is still free; one that another transaction inserted
    meanwhile is skipped, not an error."""
    dialect = session.get_bind().dialect.name
    # Both dialects spell ON CONFLICT DO NOTHING alike, but through their own insert().
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(model).on_conflict_do_nothing(index_elements=[key])
    # The rows as parameters, not in VALUES: a statement of the same shape is compiled once.
    await session.exec(statement, params=rows)


# Values bound to one statement at most: SQLite allows 32,766 by default, asyncpg 32,767.
MAX_BOUND_VALUES = 32_000


async def insert_rows(session: AsyncSession, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert the rows (all with the same columns) in one round trip.

    One row, or rows on SQLite, go as the parameters of one prepared `INSERT`, which
    SQLAlchemy compiles once (rows written into VALUES would be compiled on every call); the
    driver runs an executemany in one round trip (app/db/sqlite_driver.py). On PostgreSQL
    several rows go in one statement instead (several when they bind more than
    MAX_BOUND_VALUES values): asyncpg runs an executemany once per row, and so PostgreSQL would
    run a statement trigger once per row. On SQLite the insert waits for the transaction's next
    statement or its commit and goes in their round trip (`LATER`, app/db/sqlite_driver.py).
    """
    if not rows:
        return
    if len(rows) == 1 or session.get_bind().dialect.name == "sqlite":
        await session.exec(insert(table).execution_options(**{LATER: True}), params=rows)
        return
    per_statement = MAX_BOUND_VALUES // len(rows[0])
    for start in range(0, len(rows), per_statement):
        await session.exec(insert(table).values(rows[start : start + per_statement]))


def json_list(
    columns: Mapping[str, Any],
    where: Sequence[Any],
    order_by: Sequence[Any],
    outer: Any,
    *,
    objects: bool,
) -> dict[str, Any]:
    """For each dialect, a subquery correlated with the `outer` row that gives its rows of
    `columns` matching `where`, in `order_by`, as one JSON array: of objects named as in
    `columns`, or (`objects=False`) of the values of the one column.

    PostgreSQL orders inside the aggregate; SQLite 3.40 has no ORDER BY there, so a subquery
    sorts the rows first and `json_group_array` keeps their order.
    """

    def item(object_of: Any, values: Mapping[str, Any]) -> Any:
        if not objects:
            [value] = values.values()
            return value
        pairs: list[Any] = []
        for name, value in values.items():
            pairs += [literal_column(f"'{name}'"), value]
        return object_of(*pairs)

    rows = (
        select_columns(*(column.label(name) for name, column in columns.items()))
        .where(*where)
        .order_by(*order_by)
        .correlate(outer)
        .subquery()
    )
    in_sqlite = select_columns(
        func.json_group_array(item(func.json_object, {name: rows.c[name] for name in columns}))
    ).scalar_subquery()
    ordered = postgresql.aggregate_order_by(item(func.json_build_object, columns), *order_by)
    in_postgresql = func.coalesce(
        select_columns(func.json_agg(ordered)).where(*where).correlate(outer).scalar_subquery(),
        func.json_build_array(),
    )
    return {
        "sqlite": type_coerce(in_sqlite, JSON),
        "postgresql": type_coerce(in_postgresql, JSON),
    }


def joined_text(
    column: Any, where: Sequence[Any], order_by: Sequence[Any], outer: Any, separator: str
) -> dict[str, Any]:
    """For each dialect, a subquery correlated with the `outer` row that joins the text of
    `column` in the rows matching `where`, in `order_by`, with `separator` ('' for none)."""
    rows = (
        select_columns(column.label("text"))
        .where(*where)
        .order_by(*order_by)
        .correlate(outer)
        .subquery()
    )
    in_sqlite = select_columns(func.group_concat(rows.c.text, separator)).scalar_subquery()
    # PostgreSQL's ORDER BY goes after the last argument: string_agg(x, ',' ORDER BY y).
    ordered = postgresql.aggregate_order_by(literal(separator), *order_by)
    in_postgresql = (
        select_columns(func.string_agg(column, ordered))
        .where(*where)
        .correlate(outer)
        .scalar_subquery()
    )
    return {
        "sqlite": func.coalesce(in_sqlite, ""),
        "postgresql": func.coalesce(in_postgresql, ""),
    }


def relation(attribute: Any) -> QueryableAttribute[Any]:
    """A relationship as loader options need it; SQLModel types it as the related objects."""
    return cast(QueryableAttribute[Any], attribute)


class Repository(Generic[Row]):
    """What every resource's repository holds: the request's session, and the rows of `model`
    this transaction locked, kept so that changing one after showing it needs no second read."""

    model: type[Row]
    # What a locked read loads with the row, for the answer after a change.
    loads: tuple[Any, ...] = ()

    def __init__(self, session: SessionDep) -> None:
        self.session = session
        self.locked: dict[uuid.UUID, Row] = {}

    async def lock(self, row_id: uuid.UUID) -> Row | None:
        """The row, locked for the rest of the transaction where the database can; None if
        there is none."""
        if (row := self.locked.get(row_id)) is not None:
            return row
        statement = (
            select(self.model)
            .where(col(self.model.id) == row_id)
            .options(*self.loads)
            # FOR NO KEY UPDATE on PostgreSQL: it still keeps out every other change of the
            # row, but not the key-share locks that foreign-key checks of other rows take, as
            # the search index's triggers do on books while an author is being deleted; with
            # FOR UPDATE the two wait for each other, and PostgreSQL ends one as a deadlock.
            .with_for_update(of=self.model, key_share=True)
        )
        found = (await self.session.exec(statement)).one_or_none()
        if found is not None:
            self.locked[row_id] = found
        return found

    async def locked_row(self, row_id: uuid.UUID) -> Row:
        """A row this transaction showed and locked, which cannot have gone since."""
        row = await self.lock(row_id)
        assert row is not None, f"{self.model.__name__} {row_id} went while locked"
        return row
