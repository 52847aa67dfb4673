"""The per-request session (`SessionDep`) and repositories built on it (`on_session`)."""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.engine import READS
from app.state import DatabaseDep

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_session(request: Request, database: DatabaseDep) -> AsyncIterator[AsyncSession]:
    """Yield the request's one session: committed before the response is sent, else rolled back."""
    factory = database.reads if request.method in SAFE_METHODS else database.writes
    async with factory() as session, session.begin():
        yield session


@asynccontextmanager
async def reading_first(session: AsyncSession) -> AsyncIterator[AsyncSession]:
    """A session for what a write reads before its first write.

    On SQLite a write session's first statement takes the one write connection, and every
    other write waits for it until the commit; a read on a reader's session of its own, made
    first, holds nobody up. Elsewhere (PostgreSQL, whose rows are locked one by one, or a
    session bound to one connection, as the tests' are) it is the write session itself.
    """
    reads = session.info.get(READS)
    if reads is None:
        yield session
        return
    async with reads() as reader:
        yield reader


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
