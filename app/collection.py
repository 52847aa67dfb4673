"""The routes every resource collection shares, written once: create, list, get and update.

A resource's router makes a `Collection` for its name and repository, adds the shared routes
with its own types, and writes the routes that are its own (such as delete, whose options
differ) on the loaders the collection provides. The endpoints below are typed by the
resource's classes at run time, which is what FastAPI reads to parse and document a request;
mypy cannot check an annotation held in a variable, hence the `type: ignore`s.

A route's description says what every collection's route does; what one resource adds (the
fields a list item carries, what `null` clears) is written on its schemas, where the docs page
shows it beside the route.
"""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Response
from pydantic import BaseModel

from app.errors import problem_responses
from app.etag import (
    CREATED_RESPONSES,
    READ_HEADERS,
    READ_RESPONSES,
    ConditionalDep,
    IfMatch,
    found,
    matching,
)
from app.idempotency.guard import IdempotencyDep
from app.pagination import LIST_RESPONSES, Page, PagerDep


class Collection:
    """One resource's collection: its router, its repository and the loaders of its items.

    `name` is singular, as in `create_author` and `/{author_id}`; the router's prefix is the
    plural, as in `list_authors`.
    """

    def __init__(self, router: APIRouter, name: str, repository: Any) -> None:
        self.router = router
        self.name = name
        self.plural = router.prefix.removeprefix("/")
        self.repository = repository
        self.item = "/{" + name + "_id}"
        self.loaded, self.to_change = loaders(name, repository)

    def add_reads(self, query: Any, listed: type[BaseModel], shown: type[BaseModel]) -> None:
        """Add GET on the collection, a page of `listed` items, and GET on one item, `shown`.

        `query` is the list's query dependency.
        """
        c = self  # the annotations below name its attributes: see the module's docstring

        @c.router.get(
            "",
            name=f"list_{c.plural}",
            description=f"List {c.plural}, filtered, sorted and paginated.",
            response_model=Page[listed],  # type: ignore[valid-type]
            responses=LIST_RESPONSES,
        )
        async def list_all(
            query: query,
            repository: c.repository,  # type: ignore[name-defined]
            pager: PagerDep,
        ) -> Any:
            return pager.answer(await repository.search(query), query)

        @c.router.get(
            c.item,
            name=f"get_{c.name}",
            description=f"Get one {c.name} by its id.",
            response_model=shown,
            responses=READ_RESPONSES,
        )
        async def get(shown: Annotated[Any, c.loaded], conditional: ConditionalDep) -> Any:
            return conditional.answer(shown)

    def add_writes(
        self,
        create_body: type[BaseModel],
        update_body: type[BaseModel],
        written: type[BaseModel],
        update_problems: list[int],
    ) -> None:
        """Add POST on the collection and PATCH on one item, both answering `written`.

        `update_problems` are the problem statuses a PATCH can answer with.
        """
        c = self

        @c.router.post(
            "",
            name=f"create_{c.name}",
            description=(
                f"Create one {c.name}; a retry with the same `Idempotency-Key` replays "
                "the first answer."
            ),
            status_code=201,
            response_model=written,
            responses=CREATED_RESPONSES,
        )
        async def create(
            data: create_body,  # type: ignore[valid-type]
            repository: c.repository,  # type: ignore[name-defined]
            idempotency: IdempotencyDep,
        ) -> Any:
            return await idempotency.create(
                lambda: repository.create(data), c.router.prefix, written
            )

        @c.router.patch(
            c.item,
            name=f"update_{c.name}",
            description=f"Change some of one {c.name}'s fields; the others keep their values.",
            response_model=written,
            responses={200: {"headers": READ_HEADERS}, **problem_responses(*update_problems)},
        )
        async def update(
            shown: Annotated[Any, c.to_change],
            data: update_body,  # type: ignore[valid-type]
            repository: c.repository,  # type: ignore[name-defined]
            response: Response,
        ) -> Any:
            changed = await repository.update(shown, data)
            response.headers["ETag"] = changed.etag
            return changed


def loaders(name: str, repository: Any) -> tuple[Any, Any]:
    """The `Depends` markers that load the item at the path, to read it and to change it.

    Both answer 404 if there is no such item; the second also locks the item until the
    transaction ends and answers 412 if `If-Match` names another version.
    """
    missing = f"No {name} has this id."
    ItemId = Annotated[uuid.UUID, Path(alias=f"{name}_id")]

    async def load(item_id: ItemId, repository: repository) -> Any:
        return found(await repository.get(item_id), missing)

    async def load_to_change(
        item_id: ItemId,
        repository: repository,
        if_match: IfMatch = None,
    ) -> Any:
        return matching(await repository.get_for_update(item_id), missing, if_match)

    return Depends(load), Depends(load_to_change)
