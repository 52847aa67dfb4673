"""Small pieces of SQL shared by the repositories."""

from typing import Any, cast

from sqlalchemy import ColumnElement
from sqlalchemy.orm import QueryableAttribute


def contains_text(column: Any, text: str) -> ColumnElement[bool]:
    """Substring match in which `%` and `_` are literal; fold both sides first to ignore case."""
    return column.contains(text, autoescape=True)  # type: ignore[no-any-return]


def relation(attribute: Any) -> QueryableAttribute[Any]:
    """A relationship as loader options need it; SQLModel types it as the related objects."""
    return cast(QueryableAttribute[Any], attribute)
