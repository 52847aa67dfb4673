"""The per-request session (`SessionDep`) and repositories built on it (`on_session`)."""

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy import Executable, Row
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.engine import READERS
from app.state import DatabaseDep

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_session(request: Request, database: DatabaseDep) -> AsyncIterator[AsyncSession]:
    """Yield the request's one session: committed before the response is sent, else rolled back."""
    factory = database.reads if request.method in SAFE_METHODS else database.writes
    async with factory() as session, session.begin():
        yield session


async def read_before_writing(
    session: AsyncSession, statement: Executable, params: dict[str, Any]
) -> Sequence[Row[Any]]:
    """The rows of a read that a write request makes before its first write.

    On SQLite a write session's first statement takes the one write connection, and every
    other write waits for it until the commit; the read goes to a reader connection of its own
    instead, and holds nobody up. A connection, not a second session: for one read, a session
    cost 0.35 ms more CPU (see the benchmark notes). Elsewhere (PostgreSQL, whose rows are
    locked one by one, or a session bound to one connection, as the tests' are) the write
    session itself reads.
    """
    readers: AsyncEngine | None = session.info.get(READERS)
    if readers is None:
        found = await session.exec(statement, params=params)  # type: ignore[call-overload]
        return found.all()  # type: ignore[no-any-return]
    async with readers.connect() as connection:
        return (await connection.execute(statement, params)).all()


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
