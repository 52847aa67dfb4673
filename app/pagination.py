"""Page and sort parameters, the page envelope, and the RFC 8288 `Link` header."""

import math
from collections.abc import Sequence
from typing import ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.datastructures import URL

from app.schemas import no_nul

T = TypeVar("T")

MAX_PER_PAGE = 100
# Keeps page * per_page inside a 64-bit OFFSET on every database.
MAX_PAGE = 2**31 - 1


class PageQuery(BaseModel):
    """Query parameters shared by every list; subclasses add filters and name their sort fields."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    sort_fields: ClassVar[tuple[str, ...]]
    default_sort: ClassVar[str]

    page: int = Field(default=1, ge=1, le=MAX_PAGE, description="Page number, from 1.")
    per_page: int = Field(default=20, ge=1, le=MAX_PER_PAGE, description="Items per page.")
    sort: str | None = Field(
        default=None,
        max_length=200,
        description="Comma-separated fields, each optionally prefixed with `-` for descending.",
    )

    _no_nul = field_validator("*")(no_nul)

    @field_validator("sort")
    @classmethod
    def known_sort_fields(cls, value: str | None) -> str | None:
        for name in (value or "").split(","):
            if name.strip().removeprefix("-") not in cls.sort_fields:
                allowed = ", ".join(cls.sort_fields)
                raise ValueError(f"unknown sort field {name.strip()!r}; allowed: {allowed}")
        return value

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    def sort_keys(self) -> list[tuple[str, bool]]:
        """Return `(field, descending)` pairs, the default sort when none was asked for."""
        names = (self.sort or self.default_sort).split(",")
        return [(name.strip().removeprefix("-"), name.strip().startswith("-")) for name in names]


class PageMeta(BaseModel):
    page: int
    per_page: int
    total: int
    pages: int


class Page(BaseModel, Generic[T]):
    """One page of a list, with what a client needs to fetch the others."""

    items: list[T]
    meta: PageMeta

    @classmethod
    def of(cls, items: Sequence[T], total: int, query: PageQuery) -> "Page[T]":
        pages = math.ceil(total / query.per_page)
        meta = PageMeta(page=query.page, per_page=query.per_page, total=total, pages=pages)
        return cls(items=list(items), meta=meta)


def link_header(url: URL, meta: PageMeta) -> str:
    """Build `first`, `last`, `prev` and `next` links that keep the request's filters and sort."""
    last = max(meta.pages, 1)
    links = {"first": 1, "last": last}
    if meta.page > 1:
        links["prev"] = min(meta.page - 1, last)
    if meta.page < meta.pages:
        links["next"] = meta.page + 1
    parts = []
    for rel, page in links.items():
        target = url.include_query_params(page=page)
        parts.append(f'<{target.path}?{target.query}>; rel="{rel}"')
    return ", ".join(parts)


LIST_HEADERS = {
    "Link": {
        "description": "RFC 8288 links `first`, `last`, and `prev`/`next` where they exist.",
        "schema": {"type": "string"},
    }
}
