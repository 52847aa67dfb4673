"""Dependencies that load the one item a path names, for any resource whose repository offers
`get` (and, to change the item, `get_for_update`): 404 when there is no such item, 412 when
`If-Match` names another version than the one about to change.

Each takes the dependency that builds the resource's repository, so the route and its loader
share one repository per request: the row a loader locked is the row the route changes.
"""

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Protocol, TypeVar

from fastapi import Depends, Path

from app.kit.errors import NotFound
from app.kit.etag import IfMatch, Tagged, check_if_match

Item = TypeVar("Item")
Item_co = TypeVar("Item_co", covariant=True)
TaggedItem = TypeVar("TaggedItem", bound=Tagged)


class Finder(Protocol[Item_co]):
    """A repository that finds an item by its id."""

    async def get(self, item_id: uuid.UUID, /) -> Item_co | None: ...


class Locker(Protocol[Item_co]):
    """A repository that finds an item by its id and locks it for the rest of the transaction."""

    async def get_for_update(self, item_id: uuid.UUID, /) -> Item_co | None: ...


def found(item: Item | None, missing: str) -> Item:
    """The item a loader found; a 404 saying `missing` if it found none."""
    if item is None:
        raise NotFound(missing)
    return item


def matching(item: TaggedItem | None, missing: str, if_match: str | None) -> TaggedItem:
    """What a write is about to change: a 404 if it is missing, a 412 if If-Match fails."""
    check_if_match(if_match, found(item, missing).etag)
    return found(item, missing)


def item_id(parameter: str) -> object:
    """The path parameter that names the item."""
    return Path(alias=parameter)


def load_or_404(
    repository: Callable[..., Awaitable[Finder[Item]]], parameter: str, missing: str
) -> Callable[..., Awaitable[Item]]:
    """A dependency giving the item the path `parameter` names, or a 404 saying `missing`."""

    async def load(
        found_id: Annotated[uuid.UUID, item_id(parameter)],
        finder: Annotated[Finder[Item], Depends(repository)],
    ) -> Item:
        return found(await finder.get(found_id), missing)

    return load


def lock_or_404(
    repository: Callable[..., Awaitable[Locker[Item]]], parameter: str, missing: str
) -> Callable[..., Awaitable[Item]]:
    """A dependency giving the item the path `parameter` names, locked until the transaction
    ends, or a 404 saying `missing`."""

    async def lock(
        found_id: Annotated[uuid.UUID, item_id(parameter)],
        locker: Annotated[Locker[Item], Depends(repository)],
    ) -> Item:
        return found(await locker.get_for_update(found_id), missing)

    return lock


def load_to_change(
    repository: Callable[..., Awaitable[Locker[TaggedItem]]], parameter: str, missing: str
) -> Callable[..., Awaitable[TaggedItem]]:
    """A dependency giving the item the path `parameter` names, locked until the transaction
    ends; a 404 saying `missing` if there is none, a 412 if `If-Match` names another version."""

    async def load(
        found_id: Annotated[uuid.UUID, item_id(parameter)],
        locker: Annotated[Locker[TaggedItem], Depends(repository)],
        if_match: IfMatch = None,
    ) -> TaggedItem:
        return matching(await locker.get_for_update(found_id), missing, if_match)

    return load
