"""The per-request session (`SessionDep`) and repositories built on it (`on_session`)."""

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from sqlmodel.ext.asyncio.session import AsyncSession

from app.state import DatabaseDep

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_session(request: Request, database: DatabaseDep) -> AsyncIterator[AsyncSession]:
    """Yield the request's one session: committed before the response is sent, else rolled back."""
    factory = database.reads if request.method in SAFE_METHODS else database.writes
    async with factory() as session, session.begin():
        yield session


# scope="function" runs the commit before the response is sent, so a failed commit
# becomes an error answer instead of a 2xx for data that was never stored.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]

Repository = TypeVar("Repository")


def on_session(
    repository: Callable[[AsyncSession], Repository],
) -> Callable[[AsyncSession], Awaitable[Repository]]:
    """A dependency building `repository` on the request's session, on the event loop.

    FastAPI calls a class used as a dependency in a worker thread; that round trip cost
    more than the class does (see the benchmark notes).
    """

    async def build(session: SessionDep) -> Repository:
        return repository(session)

    return build
