"""The routes every resource collection shares, written once: create, list, get and update.

A resource's router names its types and dependencies in a `Collection`, and adds the routes
that are its own (such as delete, whose options differ). The endpoints below are typed by the
resource's classes at run time, which is what FastAPI reads to parse and document a request;
mypy cannot check an annotation held in a variable, hence the `name-defined` ignores.
"""

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel

from app.errors import problem_responses
from app.etag import CREATED_RESPONSES, READ_HEADERS, READ_RESPONSES, ConditionalDep
from app.idempotency.guard import IdempotencyDep
from app.pagination import LIST_RESPONSES, Page, PagerDep


@dataclass(frozen=True)
class Collection:
    """One resource's types and dependencies, as its shared routes use them."""

    name: str  # singular, as in `create_author`
    create: type[BaseModel]  # the body of a POST
    update: type[BaseModel]  # the body of a PATCH
    written: type[BaseModel]  # what a POST or PATCH answers with
    shown: type[BaseModel]  # what a GET of one answers with
    listed: type[BaseModel]  # an item of a list page
    query: Any  # the list's query dependency
    repository: Any  # the repository dependency
    loaded: Any  # the item at the path
    to_change: Any  # the item at the path, locked and checked against If-Match


def add_shared_routes(
    router: APIRouter, collection: Collection, docs: dict[str, str], update_problems: list[int]
) -> None:
    """Add POST and GET on the collection, and GET and PATCH on one of its items.

    `docs` describes each route by its verb (`create`, `list`, `get`, `update`);
    `update_problems` are the problem statuses a PATCH can answer with.
    """
    c = collection
    item = "/{" + c.name + "_id}"

    @router.post(
        "",
        name=f"create_{c.name}",
        description=docs["create"],
        status_code=201,
        response_model=c.written,
        responses=CREATED_RESPONSES,
    )
    async def create(
        data: c.create,  # type: ignore[name-defined]
        repository: c.repository,  # type: ignore[name-defined]
        idempotency: IdempotencyDep,
    ) -> Any:
        return await idempotency.create(lambda: repository.create(data), router.prefix, c.written)

    @router.get(
        "",
        name=f"list_{router.prefix.removeprefix('/')}",
        description=docs["list"],
        response_model=Page[c.listed],  # type: ignore[name-defined]
        responses=LIST_RESPONSES,
    )
    async def list_all(
        query: c.query,  # type: ignore[name-defined]
        repository: c.repository,  # type: ignore[name-defined]
        pager: PagerDep,
    ) -> Any:
        return pager.answer(await repository.search(query), query)

    @router.get(
        item,
        name=f"get_{c.name}",
        description=docs["get"],
        response_model=c.shown,
        responses=READ_RESPONSES,
    )
    async def get(shown: c.loaded, conditional: ConditionalDep) -> Any:  # type: ignore[name-defined]
        return conditional.answer(shown)

    @router.patch(
        item,
        name=f"update_{c.name}",
        description=docs["update"],
        response_model=c.written,
        responses={200: {"headers": READ_HEADERS}, **problem_responses(*update_problems)},
    )
    async def update(
        shown: c.to_change,  # type: ignore[name-defined]
        data: c.update,  # type: ignore[name-defined]
        repository: c.repository,  # type: ignore[name-defined]
        response: Response,
    ) -> Any:
        changed = await repository.update(shown, data)
        response.headers["ETag"] = changed.etag
        return changed
