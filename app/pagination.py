"""Page and sort parameters, the page envelope, cursors, and the RFC 8288 `Link` header."""

import base64
import hashlib
import json
import math
import uuid
from collections.abc import Sequence
from datetime import datetime
from functools import cached_property
from typing import Any, ClassVar, Generic, Literal, TypeVar

from pydantic import (
    MISSING,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
)
from starlette.datastructures import URL

from app.errors import Unprocessable
from app.schemas import no_nul

T = TypeVar("T")

MAX_PER_PAGE = 100
# Keeps page * per_page inside a 64-bit OFFSET on every database.
MAX_PAGE = 2**31 - 1
# Room for a 500-character title of 4-byte characters, base64-encoded, and the other keys.
MAX_CURSOR_LENGTH = 4096
NOT_A_CURSOR = "not a cursor this list gave; use meta.next_cursor as it came"
OTHER_LIST = (
    "the cursor belongs to another list: send it with the filters and sort of the request "
    "that gave it"
)


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

    _no_nul = field_validator("*")(no_nul)

    @field_validator("sort")
    @classmethod
    def known_sort_fields(cls, value: str | None) -> str | None:
        for name in (value or "").split(","):
            if name.strip().removeprefix("-") not in cls.sort_fields:
                allowed = ", ".join(cls.sort_fields)
                raise ValueError(f"unknown sort field {name.strip()!r}; allowed: {allowed}")
        return value

    @field_validator("cursor")
    @classmethod
    def cursor_without_page(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and info.data.get("page", 1) != 1:
            raise ValueError("a cursor says where the page starts: send `page` only as 1, or not")
        if value:
            decode_cursor(value)
        return value

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
    def limit(self) -> int:
        """Rows to fetch: one more than the page when no page count tells if another follows."""
        return self.per_page + 1 if self.by_cursor or not self.counts else self.per_page

    def sort_keys(self) -> list[tuple[str, bool]]:
        """Return `(field, descending)` pairs, the default sort when none was asked for."""
        names = (self.sort or self.default_sort).split(",")
        return [(name.strip().removeprefix("-"), name.strip().startswith("-")) for name in names]

    @cached_property
    def after(self) -> list[Any] | None:
        """The sort values and id of the row the cursor continues after, as JSON gave them.

        None without a cursor (or with an empty one); a 422 if it was made for another list.
        """
        if not self.cursor:
            return None
        values, check = decode_cursor(self.cursor)
        if len(values) != len(self.sort_keys()) + 1 or check != self.fingerprint(values):
            raise Unprocessable.at(["query", "cursor"], OTHER_LIST, "cursor_mismatch")
        return values

    def cursor_after(self, item: Any) -> str:
        """The cursor that continues after `item`, whose fields are named like the sort fields."""
        names = [name for name, _ in self.sort_keys()] + ["id"]
        values = [json_value(getattr(item, name)) for name in names]
        compact = json.dumps(
            {"v": values, "f": self.fingerprint(values)}, separators=(",", ":"), ensure_ascii=False
        )
        return base64.urlsafe_b64encode(compact.encode()).decode().rstrip("=")

    def fingerprint(self, values: list[Any]) -> str:
        """A short digest of the list (its filters and sort) and the position in it.

        Not a secret: it catches a cursor used with other filters, and one edited by hand.
        """
        filters = self.model_dump(
            mode="json", exclude={"page", "per_page", "sort", "cursor", "count"}
        )
        made_with = [type(self).__name__, self.sort_keys(), filters, values]
        digest = hashlib.blake2b(json.dumps(made_with, sort_keys=True).encode(), digest_size=9)
        return base64.urlsafe_b64encode(digest.digest()).decode()


def json_value(value: Any) -> Any:
    """A sort value as a cursor holds it: timestamps as ISO 8601, ids as strings."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def decode_cursor(cursor: str) -> tuple[list[Any], str]:
    """Return a cursor's values and fingerprint; ValueError if it is not one."""
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, RecursionError):  # binascii.Error and JSONDecodeError are ValueErrors
        raise ValueError(NOT_A_CURSOR) from None
    if (
        not isinstance(decoded, dict)
        or not isinstance(decoded.get("v"), list)
        or not isinstance(decoded.get("f"), str)
    ):
        raise ValueError(NOT_A_CURSOR)
    return decoded["v"], decoded["f"]


class PageMeta(BaseModel):
    page: int | None = Field(
        description="The page number; null after a cursor, whose page number is not known."
    )
    per_page: int
    total: int | None = Field(description="Rows matching the filters; null with `count=none`.")
    pages: int | None = Field(description="ceil(total / per_page); null with `count=none`.")
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
    """One page of a list, with what a client needs to fetch the others."""

    items: list[T]
    meta: PageMeta
    _has_next: bool = PrivateAttr(default=False)

    @classmethod
    def of(cls, items: Sequence[T], total: int | None, query: PageQuery) -> "Page[T]":
        """The page of `items` as the repository found them, one too many if `query.limit`
        asked for it; `total` is None when the query did not count."""
        shown = list(items[: query.per_page])
        more = len(items) > query.per_page
        pages = None if total is None else math.ceil(total / query.per_page)
        meta = PageMeta(
            page=None if query.after is not None else query.page,
            per_page=query.per_page,
            total=total,
            pages=pages,
        )
        if query.by_cursor:
            meta.next_cursor = query.cursor_after(shown[-1]) if more else None
        page = cls(items=shown, meta=meta)
        if query.by_cursor or pages is None:
            page._has_next = more
        else:
            page._has_next = query.page < pages
        return page

    @property
    def has_next(self) -> bool:
        return self._has_next


def link_header(url: URL, page: Page[Any]) -> str:
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
        if page.has_next:
            links["next"] = by_page.include_query_params(page=meta.page + 1)
    return ", ".join(
        f'<{target.path}?{target.query}>; rel="{rel}"' for rel, target in links.items()
    )


LIST_HEADERS = {
    "Link": {
        "description": (
            "RFC 8288 links `first`, `last`, and `prev`/`next` where they exist; "
            "by cursor, `next` carries the next cursor."
        ),
        "schema": {"type": "string"},
    }
}
