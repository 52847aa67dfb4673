"""Sort definitions: each resource names its sortable columns once, and everything else about
sorting (the allowed `sort` values, the OpenAPI enum, ORDER BY, keyset conditions and the type
of each cursor value) is derived from that one mapping."""

import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_

from app.kit.quoting import quoted

# A sort field and whether it is descending.
SortKey = tuple[str, bool]
# A column of the statement and whether it is descending.
SortColumn = tuple[Any, bool]


@dataclass(frozen=True)
class NullsLast:
    """A nullable column whose NULLs sort last in both directions (elsewhere NULLs sort as if
    larger than any value)."""

    column: Any


@dataclass(frozen=True)
class Then:
    """A sort field that orders by its own column, then by `ascending` columns ascending,
    whichever way the field itself sorts."""

    column: Any
    ascending: tuple[Any, ...]


def plain(column: Any) -> Any:
    """The statement's column a sort column stands for."""
    return column.column if isinstance(column, NullsLast) else column


def nullable(column: Any) -> bool:
    column = plain(column)
    return bool(getattr(getattr(column, "expression", column), "nullable", False))


@dataclass(frozen=True)
class Sorting:
    """The sortable columns of one list, by the names clients use, and the default order.

    Each column must be one the list's statement selects (or a label it selects), since a
    cursor takes its values from the page's last row.
    """

    columns: Mapping[str, Any]
    default: str
    tie_breaker: Any  # the id column, which ends every order

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.columns)

    @property
    def enum(self) -> list[str]:
        """Every value one item of `sort` may take."""
        return [*self.names, *(f"-{name}" for name in self.names)]

    def parse(self, text: str | None) -> list[SortKey]:
        """`(field, descending)` pairs of a `sort` value, or of the default when none is given;
        ValueError naming the allowed fields for an unknown one."""
        keys: list[SortKey] = []
        for item in (self.default if text is None else text).split(","):
            name = item.strip()
            if name.removeprefix("-") not in self.columns:
                allowed = ", ".join(self.names)
                raise ValueError(f"unknown sort field {quoted(name)}; allowed: {allowed}")
            keys.append((name.removeprefix("-"), name.startswith("-")))
        return keys

    def sort_columns(
        self, keys: Sequence[SortKey], given: Mapping[str, Any] | None = None
    ) -> list[SortColumn]:
        """The columns of the order, ending with the id in the direction of the last field,
        so the order is total; `given` supplies the columns a request makes (a search's rank)."""
        known = {**self.columns, **(given or {})}
        columns: list[SortColumn] = []
        for name, descending in keys:
            field = known[name]
            if isinstance(field, Then):
                columns += [(field.column, descending), *((c, False) for c in field.ascending)]
            else:
                columns.append((field, descending))
        return [*columns, (self.tie_breaker, columns[-1][1])]

    def cursor_values(self, keys: Sequence[SortKey], values: Sequence[Any]) -> list[Any]:
        """A cursor's JSON values as the columns compare them; ValueError if one cannot be.

        The digest only shows that a cursor was not edited by accident, so values are checked as
        strictly as query parameters: what the database would refuse must not become a 500.
        """
        columns = self.sort_columns(keys)
        if len(values) != len(columns):
            raise ValueError("a cursor of another list")
        return [
            column_value(column, value) for (column, _), value in zip(columns, values, strict=True)
        ]


def order_by(columns: Sequence[SortColumn]) -> list[Any]:
    """ORDER BY terms for the columns; NULLs sort as if larger than any value on every database."""
    terms: list[Any] = []
    for column, descending in columns:
        term = plain(column).desc() if descending else plain(column).asc()
        if isinstance(column, NullsLast):
            term = term.nulls_last()
        elif nullable(column):
            term = term.nulls_first() if descending else term.nulls_last()
        terms.append(term)
    return terms


def after(columns: Sequence[SortColumn], values: Sequence[Any]) -> list[ColumnElement[bool]]:
    """WHERE terms keeping the rows that `order_by` puts after the row with these values.

    For a sort `(a, b, id)` that is `a after x OR (a = x AND b after y) OR (a = x AND b = y AND
    id after z)`, where "after" follows each direction, and NULLs sort as larger than any value.
    """
    alternatives: list[ColumnElement[bool]] = []
    equal: list[ColumnElement[bool]] = []
    for (column, descending), value in zip(columns, values, strict=True):
        if (beyond := later(column, descending, value)) is not None:
            alternatives.append(and_(*equal, beyond))
        equal.append(plain(column).is_(None) if value is None else plain(column) == value)
    return [*leading_bound(*columns[0], values[0]), or_(*alternatives)]


def later(column: Any, descending: bool, value: Any) -> ColumnElement[bool] | None:
    """Rows whose `column` sorts strictly after `value`; None if no value does."""
    if isinstance(column, NullsLast):
        if value is None:
            return None
        beyond = column.column < value if descending else column.column > value
        return or_(beyond, column.column.is_(None))
    if value is None:
        # NULL is the largest: nothing follows it ascending, every value follows it descending.
        return column.is_not(None) if descending else None
    if descending:
        return column < value  # type: ignore[no-any-return]
    return or_(column > value, column.is_(None)) if nullable(column) else column > value


def leading_bound(column: Any, descending: bool, value: Any) -> list[ColumnElement[bool]]:
    """A range on the first sort column, implied by the OR that follows: it lets the database
    start reading an index at the cursor instead of filtering every row before it."""
    if isinstance(column, NullsLast):
        return [column.column.is_(None)] if value is None else []
    if value is None:
        return [] if descending else [column.is_(None)]
    if descending:
        return [column <= value]
    return [] if nullable(column) else [column >= value]


def column_value(column: Any, value: Any) -> Any:
    """A JSON value as `column` compares it; ValueError if it cannot be one."""
    column = plain(column)
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
    raise ValueError(f"not a value of {column}")


def json_value(value: Any) -> Any:
    """A sort value as a cursor holds it: timestamps as ISO 8601, ids as strings."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


# Query parameters whose value is a list sent as one comma-separated string.
COMMA_SEPARATED = ("sort", "facets")


def lists_sent_comma_separated(document: dict[str, Any]) -> None:
    """Say in the OpenAPI document that `sort` and `facets`, lists, are sent as `a,-b`:
    OpenAPI's form style without explode, which FastAPI cannot declare on a parameter itself."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query" and parameter["name"] in COMMA_SEPARATED:
                    parameter.update(style="form", explode=False)
