"""Strong entity tags derived from a row's version (RFC 9110 conditional requests)."""

from typing import Annotated

from fastapi import Header

from app.errors import PreconditionFailed


def etag(version: int) -> str:
    """The strong ETag of a resource at this version."""
    return f'"{version}"'


def matches(header: str | None, version: int) -> bool:
    """Tell whether an If-Match / If-None-Match header names this version (or is `*`)."""
    if header is None:
        return False
    tags = [tag.strip() for tag in header.split(",")]
    return "*" in tags or etag(version) in tags


def check_if_match(header: str | None, version: int) -> None:
    """Refuse a write whose If-Match names another version than the stored one."""
    if header is not None and not matches(header, version):
        raise PreconditionFailed("The resource has changed since it was read (If-Match failed).")


IfMatch = Annotated[
    str | None,
    Header(max_length=1000, description="Apply only if the resource still has this ETag."),
]
IfNoneMatch = Annotated[
    str | None,
    Header(max_length=1000, description="Answer 304 if the resource still has this ETag."),
]
