"""The SQLite driver adapter: each statement costs one round trip to the connection's thread,
a transaction one more (its commit), and SQLAlchemy reads what it expects from a cursor."""

from collections.abc import Callable
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.config import Settings
from app.db import create_engine

pytestmark = pytest.mark.sqlite


@pytest.fixture
def round_trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of every function sent to an aiosqlite connection's thread."""
    sent: list[str] = []
    send = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(getattr(fn, "__name__", repr(fn)))
        return await send(self, fn, *args, **kwargs)  # type: ignore[no-untyped-call]

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return sent


async def trips_for(settings: Settings, statements: int, round_trips: list[str]) -> int:
    engine = create_engine(settings, writer=False)
    try:
        async with engine.connect() as connection:  # connect and set up outside the count
            await connection.execute(text("SELECT 1"))
        round_trips.clear()
        async with engine.begin() as connection:
            for n in range(statements):
                assert (await connection.execute(text(f"SELECT {n}"))).scalar_one() == n
        return len(round_trips)
    finally:
        await engine.dispose()


async def test_a_statement_costs_one_round_trip(
    fresh_database: Callable[[], Settings], round_trips: list[str]
) -> None:
    settings = fresh_database()
    one = await trips_for(settings, 1, round_trips)
    four = await trips_for(settings, 4, round_trips)
    assert four - one == 3
    # BEGIN travels with the statement, then the commit; the pool's rollback is not needed.
    assert one == 2, round_trips


async def test_rows_counts_and_errors_come_back_as_sqlalchemy_expects(
    fresh_database: Callable[[], Settings],
) -> None:
    engine = create_engine(fresh_database())
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TEMP TABLE t (n INTEGER PRIMARY KEY, v TEXT)"))
            inserted = await connection.execute(
                text("INSERT INTO t (n, v) VALUES (:n, :v)"),
                [{"n": 1, "v": "a"}, {"n": 2, "v": "b"}],
            )
            assert inserted.rowcount == 2
            updated = await connection.execute(text("UPDATE t SET v = 'c' WHERE n = 2"))
            assert updated.rowcount == 1
            rows = (await connection.execute(text("SELECT n, v FROM t ORDER BY n"))).all()
            assert [tuple(row) for row in rows] == [(1, "a"), (2, "c")]
            assert list(rows[0]._mapping) == ["n", "v"]
            with pytest.raises(IntegrityError, match="UNIQUE"):
                await connection.execute(text("INSERT INTO t (n, v) VALUES (1, 'again')"))
    finally:
        await engine.dispose()
