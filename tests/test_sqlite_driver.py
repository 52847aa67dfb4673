"""The SQLite driver adapter: each statement costs one round trip to the connection's thread,
a transaction one more (its commit), and SQLAlchemy reads what it expects from a cursor."""

from collections.abc import AsyncIterator, Callable
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import Executable, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import Settings
from app.db.driver_errors import failing_statement
from app.db.engine import create_engine
from app.db.sqlite_driver import ALONE, LATER
from tests.helpers.databases import SqliteTrace
from tests.helpers.serving import serving

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


async def reader_transaction(
    settings: Settings,
    statements: list[Executable],
    round_trips: list[str],
    ran: SqliteTrace,
) -> tuple[list[str], list[str]]:
    """Run `statements` in one reader transaction; return what SQLite ran for it and the
    round trips to the connection's thread it took."""
    engine = create_engine(settings, writer=False)
    try:
        async with engine.connect() as connection:  # connect and set up outside the count
            await connection.execute(text("SELECT 1"))
        round_trips.clear()
        ran.clear()
        async with engine.begin() as connection:
            for statement in statements:
                assert (await connection.execute(statement)).scalar_one() == 1
        return ran.all(), list(round_trips)
    finally:
        await engine.dispose()


async def test_a_read_alone_is_one_round_trip_without_begin_or_commit(
    fresh_database: Callable[[], Settings],
    round_trips: list[str],
    sqlite_ran: SqliteTrace,
) -> None:
    alone = text("SELECT 1").execution_options(**{ALONE: True})
    ran, trips = await reader_transaction(fresh_database(), [alone], round_trips, sqlite_ran)
    assert ran == ["SELECT 1"]
    assert trips == ["run_statement"]


async def test_a_read_alone_leaves_begin_to_the_next_statement(
    fresh_database: Callable[[], Settings],
    round_trips: list[str],
    sqlite_ran: SqliteTrace,
) -> None:
    # Mistakenly marked, a first read would go without BEGIN; what follows still reads one
    # snapshot, and the transaction ends with its COMMIT.
    alone = text("SELECT 1").execution_options(**{ALONE: True})
    ran, _ = await reader_transaction(
        fresh_database(), [alone, text("SELECT 1"), alone], round_trips, sqlite_ran
    )
    assert ran == ["SELECT 1", "BEGIN", "SELECT 1", "SELECT 1", "COMMIT"]


async def test_writers_ignore_alone(
    fresh_database: Callable[[], Settings], sqlite_ran: SqliteTrace
) -> None:
    engine = create_engine(fresh_database(), writer=True)
    try:
        async with engine.begin() as connection:
            sqlite_ran.clear()
            alone = text("SELECT 1").execution_options(**{ALONE: True})
            assert (await connection.execute(alone)).scalar_one() == 1
        assert sqlite_ran.by_connection == [["BEGIN IMMEDIATE", "SELECT 1", "COMMIT"]]
    finally:
        await engine.dispose()


LATER_INSERT = text("INSERT INTO t (n) VALUES (:n)").execution_options(**{LATER: True})


@pytest.fixture
async def writer(
    fresh_database: Callable[[], Settings], round_trips: list[str], sqlite_ran: SqliteTrace
) -> AsyncIterator[AsyncEngine]:
    """A writer engine on a fresh database with a table `t`; the round trips and what SQLite
    ran are counted from the test's first statement."""
    engine = create_engine(fresh_database(), writer=True)
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (n INTEGER PRIMARY KEY)"))
    round_trips.clear()
    sqlite_ran.clear()
    yield engine
    await engine.dispose()


async def write_later(
    engine: AsyncEngine, rows: list[dict[str, int]], then: Exception | None = None
) -> None:
    """Insert the rows with `LATER` in one transaction, raising `then` before its commit."""
    async with engine.begin() as connection:
        await connection.execute(LATER_INSERT, rows)
        if then is not None:
            raise then


async def stored(engine: AsyncEngine) -> list[int]:
    async with engine.connect() as connection:
        return list((await connection.execute(text("SELECT n FROM t ORDER BY n"))).scalars())


async def test_a_later_write_goes_with_the_commit(
    writer: AsyncEngine, round_trips: list[str], sqlite_ran: SqliteTrace
) -> None:
    async with writer.begin() as connection:
        await connection.execute(LATER_INSERT, {"n": 1})
        await connection.execute(LATER_INSERT, [{"n": 2}, {"n": 3}])
        assert round_trips == []
    assert round_trips == ["run_commit"]
    assert sqlite_ran.all() == [
        "BEGIN IMMEDIATE",
        "INSERT INTO t (n) VALUES (1)",
        "INSERT INTO t (n) VALUES (2)",
        "INSERT INTO t (n) VALUES (3)",
        "COMMIT",
    ]
    assert await stored(writer) == [1, 2, 3]


async def test_a_later_write_goes_ahead_of_the_next_statement(
    writer: AsyncEngine, round_trips: list[str]
) -> None:
    async with writer.begin() as connection:
        await connection.execute(LATER_INSERT, {"n": 1})
        counted = await connection.execute(text("SELECT count(*) FROM t"))
        assert counted.scalar_one() == 1
    assert round_trips == ["run_statement", "commit"]


async def test_a_constraint_a_later_write_breaks_fails_the_commit_and_stores_nothing(
    writer: AsyncEngine,
) -> None:
    with pytest.raises(IntegrityError, match="UNIQUE"):
        await write_later(writer, [{"n": 1}, {"n": 2}, {"n": 1}])
    assert await stored(writer) == []
    await write_later(writer, [{"n": 4}])  # the connection is usable again
    assert await stored(writer) == [4]


async def test_an_error_at_the_commit_names_the_later_write_that_raised_it(
    writer: AsyncEngine,
) -> None:
    async with writer.begin() as connection:
        await connection.execute(text("CREATE TABLE parent (id INTEGER PRIMARY KEY)"))
        await connection.execute(text("CREATE TABLE child (id INTEGER REFERENCES parent (id))"))
    orphan = text("INSERT INTO child (id) VALUES (:id)").execution_options(**{LATER: True})

    async def write_both() -> None:
        async with writer.begin() as connection:
            await connection.execute(LATER_INSERT, {"n": 1})
            await connection.execute(orphan, {"id": 7})

    with pytest.raises(IntegrityError, match="FOREIGN KEY") as raised:
        await write_both()
    # SQLAlchemy knows no statement for a failed commit; the driver names the one that failed.
    assert raised.value.statement is None
    assert failing_statement(raised.value) == "INSERT INTO child (id) VALUES (?)"
    assert await stored(writer) == []


async def test_a_rolled_back_transaction_never_sends_its_later_writes(
    writer: AsyncEngine, round_trips: list[str], sqlite_ran: SqliteTrace
) -> None:
    with pytest.raises(LookupError):
        await write_later(writer, [{"n": 1}], then=LookupError("failed before its commit"))
    assert round_trips == []
    assert sqlite_ran.all() == []
    assert await stored(writer) == []


async def test_a_create_holds_the_writer_for_two_round_trips_and_fails_whole(
    fresh_database: Callable[[], Settings], round_trips: list[str]
) -> None:
    async with serving(fresh_database()) as (client, _database):
        author = (await client.post("/authors", json={"name": "Ursula"})).json()["id"]
        isbn = "9780060512750"
        book = {"title": "First", "author_id": author, "tags": ["sea", "sky"], "isbn": isbn}
        assert (await client.post("/books", json=book)).status_code == 201
        round_trips.clear()
        second = {**book, "title": "Second", "isbn": None}
        assert (await client.post("/books", json=second)).status_code == 201
        # The authors and tags read with BEGIN IMMEDIATE; the book and its links with COMMIT.
        assert round_trips == ["run_statement", "run_commit"]

        # The duplicate ISBN is found at the commit: a 409, and its new tag is not kept.
        again = {**book, "title": "Copy", "tags": ["sea", "storm"]}
        refused = await client.post("/books", json=again)
        assert refused.status_code == 409, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["detail"] == "A book with this ISBN already exists."
        assert (await client.get("/books")).json()["meta"]["total"] == 2
        tags = (await client.get("/tags")).json()["items"]
        assert sorted(tag["name"] for tag in tags) == ["sea", "sky"]
