"""Page and sort parameters, the page envelope, cursors, and the RFC 8288 `Link` header."""

import base64
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Generic, Literal, Self, TypeVar

from fastapi import Depends, Request, Response
from pydantic import (
    MISSING,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.datastructures import URL

from app.kit.cursor import MAX_CURSOR_LENGTH, OTHER_LIST, cursor_error, decode_cursor, encode_cursor
from app.kit.errors import problem_responses
from app.kit.openapi import header_ref
from app.kit.schemas import Count, no_nul
from app.kit.sorting import SortColumn, Sorting, SortKey, after, json_value, order_by, plain

T = TypeVar("T")
U = TypeVar("U")

MAX_PER_PAGE = 100
# Keeps page * per_page inside a 64-bit OFFSET on every database.
MAX_PAGE = 2**31 - 1
MAX_SORT_LENGTH = 200
# A field takes a character at least, and a comma parts it from the next.
MAX_SORT_FIELDS = (MAX_SORT_LENGTH + 1) // 2


class PageQuery(BaseModel):
    """Query parameters shared by every list; subclasses add filters and name their sorting.

    Validation resolves everything a repository needs: the sort keys, and the cursor's values,
    decoded, checked against the list's digest and typed as the sort columns compare them.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    sorting: ClassVar[Sorting]

    page: int = Field(default=1, ge=1, le=MAX_PAGE, description="Page number, from 1.")
    per_page: int = Field(default=20, ge=1, le=MAX_PER_PAGE, description="Items per page.")
    sort: str | None = Field(
        default=None,
        max_length=MAX_SORT_LENGTH,
        description="Comma-separated fields, each optionally prefixed with `-` for descending.",
    )
    # Declared after `page`, so that its validator sees the page.
    cursor: str | None = Field(
        default=None,
        max_length=MAX_CURSOR_LENGTH,
        description=(
            "Keyset pagination, instead of `page`: send it empty for the first page, then "
            "`meta.next_cursor` of the page before, with the same filters and sort. "
            "Pages by cursor cost the same however deep they are. Not with `page` other than 1."
        ),
    )

    count: Literal["exact", "none"] = Field(
        default="exact",
        description=(
            "`exact` counts every matching row for `meta.total` and `meta.pages`. `none` skips "
            "that count, which on a large list can cost more than the page: both are then null, "
            "`Link` has no `last`, and `next` is there when another page follows."
        ),
    )

    # What adds to a page but not to its rows: a cursor continues the list with or without it.
    beside_rows: ClassVar[frozenset[str]] = frozenset()

    _keys: list[SortKey] = PrivateAttr(default_factory=list)
    _after: list[Any] | None = PrivateAttr(default=None)
    _no_nul = field_validator("*")(no_nul)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        """Document `sort` as a comma-separated list of the subclass's own sort fields."""
        super().__pydantic_init_subclass__(**kwargs)
        if "sorting" not in cls.__dict__:
            return
        items = {"type": "string", "enum": cls.sorting.enum}
        listed = {"type": "array", "items": items, "maxItems": MAX_SORT_FIELDS, "anyOf": None}
        cls.model_fields["sort"] = FieldInfo.merge_field_infos(
            cls.model_fields["sort"], json_schema_extra=listed
        )
        cls.model_rebuild(force=True)

    @field_validator("sort")
    @classmethod
    def known_sort_fields(cls, value: str | None) -> str | None:
        cls.sorting.parse(value)
        return value

    @field_validator("cursor")
    @classmethod
    def cursor_without_page(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and info.data.get("page", 1) != 1:
            raise ValueError("a cursor says where the page starts: send `page` only as 1, or not")
        if value:
            decode_cursor(value)
        return value

    @model_validator(mode="after")
    def resolve(self) -> Self:
        """Resolve the sort and the cursor, once every filter the cursor was made for is known."""
        self._keys = self.resolve_sort()
        if self.cursor:
            values, check = decode_cursor(self.cursor)
            try:
                if check != self.fingerprint(values):
                    raise ValueError(OTHER_LIST)
                self._after = self.sorting.cursor_values(self._keys, values)
            except ValueError:
                raise cursor_error(self.cursor) from None
        return self

    def resolve_sort(self) -> list[SortKey]:
        """The sort asked for, or the default; a list with sorts of its own overrides this."""
        return self.sorting.parse(self.sort)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    @property
    def by_cursor(self) -> bool:
        """Whether the client pages by cursor (an empty one starts at the first page)."""
        return self.cursor is not None

    @property
    def counts(self) -> bool:
        """Whether the client asked for `meta.total`."""
        return self.count == "exact"

    @property
    def sort_keys(self) -> list[SortKey]:
        """`(field, descending)` pairs, the default sort when none was asked for."""
        return self._keys

    @property
    def after(self) -> list[Any] | None:
        """The sort values and id of the row the cursor continues after; None without one."""
        return self._after

    def cursor_after(self, values: Sequence[Any]) -> str:
        """The cursor that continues after the row with these sort values and id."""
        shown = [json_value(value) for value in values]
        return encode_cursor(shown, self.fingerprint(shown))

    def fingerprint(self, values: list[Any]) -> str:
        """A short digest of the list (its filters and sort) and the position in it.

        Not a secret: it catches a cursor used with other filters, and one edited by hand.
        """
        filters = self.model_dump(
            mode="json", exclude={"page", "per_page", "sort", "cursor", "count", *self.beside_rows}
        )
        sort_keys = [list(key) for key in self._keys]
        made_with = [type(self).__name__, sort_keys, filters, values]
        digest = hashlib.blake2b(json.dumps(made_with, sort_keys=True).encode(), digest_size=9)
        return base64.urlsafe_b64encode(digest.digest()).decode()


@dataclass(frozen=True)
class Slice(Generic[T]):
    """The rows of one page as a list found them, how many match in all (None when not
    counted), whether another page follows, and the cursor of that page when paging by one."""

    items: list[T]
    total: int | None
    has_next: bool
    next_cursor: str | None

    def with_items(self, items: list[U]) -> "Slice[U]":
        """The same page, its rows turned into what the list shows."""
        return Slice(items, self.total, self.has_next, self.next_cursor)


async def paginate(
    session: AsyncSession,
    query: PageQuery,
    statement: Any,
    filters: Sequence[Any],
    counted: type[Any],
    *,
    columns: Mapping[str, Any] | None = None,
    also_counted: Sequence[Any] = (),
    key: Any = None,
) -> Slice[Any]:
    """The rows of `statement` (a select) that match `filters`, at the query's page or cursor,
    in its sort.

    When no count tells whether another page follows (by cursor, or with `count=none`), one
    row more than the page is read to know. `total` counts the rows of `counted` that match
    `filters` and `also_counted` (what the statement applies by a join). `columns` supplies the
    sort columns the request itself makes, such as a search's rank. With the rows' `key`
    column, a page past the first picks its keys before it reads its rows (see below).
    """
    sort = query.sorting.sort_columns(query.sort_keys, columns)
    keyset = [] if query.after is None else after(sort, query.after)
    reads_ahead = query.by_cursor or not query.counts
    limit = query.per_page + 1 if reads_ahead else query.per_page
    page = (
        statement.where(*filters, *keyset)
        .order_by(*order_by(sort))
        .offset(query.offset)
        .limit(limit)
    )
    if key is not None and query.offset:
        # PostgreSQL computes a statement's columns (a book's tags) for each row an OFFSET
        # skips: 15,000 times for page 750. The page's keys are picked first, by the same
        # joins, filters and sort, and only the rows they name are read.
        keys = page.with_only_columns(key).correlate(None)
        page = statement.where(key.in_(keys)).order_by(*order_by(sort))
    rows = list((await session.exec(page)).all())
    shown = rows[: query.per_page]
    counted_filters = [*filters, *also_counted]
    total = await count_matching(session, query, counted, counted_filters, len(rows), limit)
    if reads_ahead or total is None:
        has_next = len(rows) > query.per_page
    else:
        has_next = query.page < math.ceil(total / query.per_page)
    next_cursor = None
    if query.by_cursor and has_next:
        next_cursor = query.cursor_after(sort_values(shown[-1], sort))
    return Slice(shown, total, has_next, next_cursor)


def sort_values(row: Any, columns: Sequence[SortColumn]) -> list[Any]:
    """The sort columns of a row as the statement read them: from a row of columns by the
    column itself, from an ORM entity by the attribute that maps it."""
    if (mapping := getattr(row, "_mapping", None)) is not None:
        return [mapping[plain(column)] for column, _ in columns]
    return [getattr(row, plain(column).key) for column, _ in columns]


async def count_matching(
    session: AsyncSession,
    query: PageQuery,
    counted: type[Any],
    filters: Sequence[Any],
    found: int,
    limit: int,
) -> int | None:
    """How many rows match in all, given that the page found `found` of at most `limit`;
    None if the client did not ask.

    A page that is not full, and not past the end, already tells when its position is known:
    by page number, or at the start of a cursor walk. After a cursor, how many rows come
    before it is not known, so it counts.
    """
    if not query.counts:
        return None
    if query.after is None and found < limit and (found > 0 or query.offset == 0):
        return query.offset + found
    total = await session.exec(select(func.count()).select_from(counted).where(*filters))
    return total.one()


class PageMeta(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"page": 1, "per_page": 20, "total": 1, "pages": 1}]}
    )

    page: int | None = Field(
        ge=1,
        le=MAX_PAGE,
        description="The page number; null after a cursor, whose page number is not known.",
    )
    per_page: int = Field(ge=1, le=MAX_PER_PAGE)
    total: Count | None = Field(description="Rows matching the filters; null with `count=none`.")
    pages: Count | None = Field(description="ceil(total / per_page); null with `count=none`.")
    # MISSING leaves the field out: lists paged by number show exactly the contract's fields.
    next_cursor: str | None | MISSING = Field(
        default=MISSING,
        description=(
            "Only when the request sent `cursor`: the `cursor` of the next page, "
            "or null on the last one."
        ),
    )

    @property
    def by_cursor(self) -> bool:
        return self.next_cursor is not MISSING


class Page(BaseModel, Generic[T]):
    """One page of a list, with what a client needs to fetch the others.

    Each list answers with a subclass named for what it lists, `BookPage(Page[BookListItem])`,
    so that the OpenAPI document names its schema `BookPage`, not `Page_BookListItem_`.
    """

    items: list[T] = Field(max_length=MAX_PER_PAGE)
    meta: PageMeta

    @classmethod
    def of(cls, found: "Slice[T]", query: PageQuery) -> Self:
        """The answer for what `paginate` found at the query's position."""
        cursor = {"next_cursor": found.next_cursor} if query.by_cursor else {}
        # A list may declare a meta of its own by overriding `meta` (BookPage: BookPageMeta).
        shape: type[PageMeta] = cls.model_fields["meta"].annotation  # type: ignore[assignment]
        meta = shape(
            page=None if query.after is not None else query.page,
            per_page=query.per_page,
            total=found.total,
            pages=None if found.total is None else math.ceil(found.total / query.per_page),
            **cursor,
        )
        return cls(items=found.items, meta=meta)


def link_header(url: URL, page: Page[Any], has_next: bool) -> str:
    """Build `first`, `last`, `prev` and `next` links that keep the request's filters and sort.

    By cursor, `first` starts a new cursor walk, `next` continues this one, and there is no
    `prev`; `last` is by page number, since no cursor leads straight to it. Without a count
    there is no `last`.
    """
    meta = page.meta
    by_page = url.remove_query_params("cursor")
    by_cursor = url.remove_query_params("page")
    links = {
        "first": (
            by_cursor.include_query_params(cursor="")
            if meta.by_cursor
            else by_page.include_query_params(page=1)
        )
    }
    last = None if meta.pages is None else max(meta.pages, 1)
    if last is not None:
        links["last"] = by_page.include_query_params(page=last)
    if meta.by_cursor:
        if meta.next_cursor is not None:
            links["next"] = by_cursor.include_query_params(cursor=meta.next_cursor)
    elif meta.page is not None:
        if meta.page > 1:
            previous = meta.page - 1 if last is None else min(meta.page - 1, last)
            links["prev"] = by_page.include_query_params(page=previous)
        if has_next:
            links["next"] = by_page.include_query_params(page=meta.page + 1)
    return ", ".join(
        f'<{target.path}?{target.query}>; rel="{rel}"' for rel, target in links.items()
    )


# A component, which every list's answer refers to (app/kit/docs.py puts it in the document).
LINK_HEADER = {
    "description": (
        "RFC 8288 links `first`, `last`, and `prev`/`next` where they exist; "
        "by cursor, `next` carries the next cursor. Each keeps the request's filters and sort."
    ),
    "schema": {"type": "string"},
}
LIST_HEADERS = {"Link": header_ref("Link")}
# What OpenAPI says of every list's answers.
LIST_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"headers": LIST_HEADERS},
    **problem_responses(),
}


AnyPage = TypeVar("AnyPage", bound=Page[Any])


class Pager:
    """How a list route answers: with the page, and a `Link` header leading to the others."""

    def __init__(self, request: Request, response: Response) -> None:
        self.url = request.url
        self.response = response

    def answer(self, shape: type[AnyPage], found: Slice[Any], query: PageQuery) -> AnyPage:
        """A page of the list's own `shape` (`BookPage`), holding what `paginate` found."""
        page = shape.of(found, query)
        self.response.headers["Link"] = link_header(self.url, page, found.has_next)
        return page


async def pager(request: Request, response: Response) -> Pager:
    # Async, so that FastAPI builds it on the event loop rather than in a worker thread.
    return Pager(request, response)


PagerDep = Annotated[Pager, Depends(pager)]
