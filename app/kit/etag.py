"""Strong entity tags and the conditional request headers (RFC 9110).

A representation's tag is derived from the versions of every row it shows: its own row's,
and those of related rows it includes (an author's books, a book's author), so it changes
whenever the representation does.
"""

import hashlib
import uuid
from typing import Annotated, Any, Protocol, TypeVar

from fastapi import Depends, Header, Response

from app.kit.errors import PreconditionFailed, problem_responses
from app.kit.schemas import MAX_INTEGER


class Tagged(Protocol):
    """A representation that knows its own ETag."""

    @property
    def etag(self) -> str: ...


Shown = TypeVar("Shown", bound=Tagged)


def etag(version: int, *shown: tuple[uuid.UUID, int]) -> str:
    """The strong ETag of a row at `version` that also shows these `(id, version)` rows."""
    if not shown:
        return f'"{version}"'
    related = ",".join(f"{row_id}:{row_version}" for row_id, row_version in sorted(shown))
    return f'"{version}-{hashlib.sha256(related.encode()).hexdigest()[:16]}"'


def listed_tags(header: str) -> list[str]:
    return [tag.strip() for tag in header.split(",")]


def none_match(header: str | None, current: str) -> bool:
    """Tell whether If-None-Match names the current tag; weak comparison, as RFC 9110 says."""
    if header is None:
        return False
    tags = [tag.removeprefix("W/") for tag in listed_tags(header)]
    return "*" in tags or current in tags


def check_if_match(header: str | None, current: str) -> None:
    """Refuse a write whose If-Match names no current tag; strong comparison (no W/ tags)."""
    if header is None:
        return
    tags = listed_tags(header)
    if "*" not in tags and current not in tags:
        raise PreconditionFailed("The resource has changed since it was read (If-Match failed).")


IfMatch = Annotated[
    str | None,
    Header(max_length=1000, description="Apply only if the resource still has this ETag."),
]
IfNoneMatch = Annotated[
    str | None,
    Header(max_length=1000, description="Answer 304 if the resource still has this ETag."),
]


def header_doc(description: str, **schema: object) -> dict[str, object]:
    """A header as OpenAPI documents it: a string, with the bounds `schema` gives."""
    return {"description": description, "schema": {"type": "string", **schema}}


# `"<version>"`, or `"<version>-<16 hex digits>"` when related rows are shown too (etag()).
ETAG_LENGTH = len(f'"{MAX_INTEGER}-{"0" * 16}"')
UUID_PATTERN = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# Headers as OpenAPI documents them, per answer.
READ_HEADERS = {
    "ETag": header_doc(
        "The strong entity tag of this representation.",
        maxLength=ETAG_LENGTH,
        pattern='^"[0-9]+(-[0-9a-f]{16})?"$',
    )
}
REPLAYED_HEADER = header_doc("`true` when this answer replays an earlier request's.", enum=["true"])


def location_doc(collection: str) -> dict[str, object]:
    """The `Location` of a resource made in `collection` (`/books`): its path there."""
    return header_doc(
        "The path of the new resource.",
        maxLength=len(collection) + 1 + len(str(uuid.UUID(int=0))),
        pattern=f"^{collection}/{UUID_PATTERN}$",
    )


def created_headers(collection: str) -> dict[str, dict[str, object]]:
    """The headers of a 201 that made a resource in `collection`."""
    return {
        **READ_HEADERS,
        "Location": location_doc(collection),
        "Idempotent-Replayed": REPLAYED_HEADER,
    }


NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "If-None-Match names the current ETag; no body.", "headers": READ_HEADERS}
}


def tagged(response: Response, shown: Shown) -> Shown:
    """`shown`, with its ETag on the response."""
    response.headers["ETag"] = shown.etag
    return shown


class Conditional:
    """How a GET of one resource answers: with the representation and its ETag, or a 304."""

    def __init__(self, response: Response, if_none_match: str | None) -> None:
        self.response = response
        self.if_none_match = if_none_match

    def answer(self, shown: Shown) -> Shown | Response:
        if none_match(self.if_none_match, shown.etag):
            return Response(status_code=304, headers={"ETag": shown.etag})
        return tagged(self.response, shown)


async def conditional(response: Response, if_none_match: IfNoneMatch = None) -> Conditional:
    return Conditional(response, if_none_match)


ConditionalDep = Annotated[Conditional, Depends(conditional)]
# What OpenAPI says of the answers to a GET, a POST and a PATCH of one resource.
READ_RESPONSES = {200: {"headers": READ_HEADERS}, **NOT_MODIFIED, **problem_responses(404)}


def created_responses(collection: str) -> dict[int | str, dict[str, Any]]:
    """What OpenAPI says of the answers to a POST that makes a resource in `collection`."""
    return {201: {"headers": created_headers(collection)}, **problem_responses(409)}


def updated_responses(*problems: int) -> dict[int | str, dict[str, Any]]:
    """What OpenAPI says of the answers to a PATCH that can fail with these `problems`."""
    return {200: {"headers": READ_HEADERS}, **problem_responses(*problems)}
