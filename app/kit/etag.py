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


def header_doc(description: str) -> dict[str, object]:
    return {"description": description, "schema": {"type": "string"}}


# Headers as OpenAPI documents them, per answer.
READ_HEADERS = {"ETag": header_doc("The strong entity tag of this representation.")}
CREATED_HEADERS = {
    **READ_HEADERS,
    "Location": header_doc("The path of the new resource."),
    "Idempotent-Replayed": header_doc("`true` when this answer replays an earlier request's."),
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
CREATED_RESPONSES = {201: {"headers": CREATED_HEADERS}, **problem_responses(409)}


def updated_responses(*problems: int) -> dict[int | str, dict[str, Any]]:
    """What OpenAPI says of the answers to a PATCH that can fail with these `problems`."""
    return {200: {"headers": READ_HEADERS}, **problem_responses(*problems)}
