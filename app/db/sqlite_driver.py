"""aiosqlite as SQLAlchemy drives it, with one thread round trip per statement instead of four.

SQLAlchemy's adapter awaits aiosqlite for each step of a statement: make a cursor, execute,
fetch the rows, close the cursor. Each await hands work to the connection's thread and back.
Here the four steps run as one function on that thread. Two more round trips per transaction
are saved: its `BEGIN` travels with its first statement, and a commit or rollback is skipped
when no statement has run since the last one (the connections are in autocommit mode, so only
a statement can open a transaction; the pool rolls back every connection returned to it).

A write whose outcome nobody reads (an `INSERT` without `RETURNING`) run with the execution
option `LATER` waits on the connection and travels with the transaction's next statement or
its commit, in their round trip: a create's book, author links and tag links go with its
`COMMIT`, so the one write connection is held for two round trips instead of five. A
constraint it breaks is raised by that next statement or by the commit, which the session
turns into the same answer (the transaction is rolled back whole either way). SQLite names no
foreign key in its error, so `app/db/driver_errors.py` tells which one from the statement that
failed; the driver marks the error with that statement (`failed_statement`), since SQLAlchemy
knows only the one it ran, or none for a commit.

A read that is its transaction's only statement needs no transaction at all: one `SELECT` reads
one snapshot by itself. A statement run with the execution option `ALONE` on a reader is sent
without the pending `BEGIN` (which waits for a next statement, if one comes), so neither a
`BEGIN` nor a `COMMIT` costs it anything: a get is one round trip.

aiosqlite has no public call for "run this on the connection's thread", so this uses
`Connection._execute`, as SQLAlchemy's own adapter uses aiosqlite's queue to set the
isolation level; aiosqlite is pinned in pyproject.
"""

import collections
import sqlite3
from collections.abc import Sequence
from typing import Any

import aiosqlite
from sqlalchemy.connectors.asyncio import AsyncAdapt_dbapi_connection
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

Outcome = tuple[Any, list[Any], int, int | None]
# A statement as the cursor was given it: its SQL, its parameters, and whether it is an executemany.
Statement = tuple[str, Any, bool]
# The execution option of a read that is its transaction's only statement (see the module).
ALONE = "folio_alone"
# The execution option of a write whose outcome is not read (see the module).
LATER = "folio_later"
# Where a driver error keeps the statement that raised it: SQLAlchemy reports the statement it
# ran, which a waiting statement's error would otherwise be blamed on.
FAILED_STATEMENT = "folio_failed_statement"


def send_in_order(cursor: sqlite3.Cursor, begin: str | None, statements: list[Statement]) -> None:
    """Send the transaction's pending `BEGIN`, if any, and then the statements, in order; an
    error names the statement that raised it (`failed_statement`)."""
    if begin is not None:
        cursor.execute(begin)
    for operation, parameters, many in statements:
        try:
            if many:
                cursor.executemany(operation, parameters)
            else:
                cursor.execute(operation, parameters if parameters is not None else ())
        except sqlite3.Error as error:
            setattr(error, FAILED_STATEMENT, operation)
            raise


def failed_statement(error: BaseException | None) -> str | None:
    """The statement that raised a driver error, where the driver sent it with others."""
    return getattr(error, FAILED_STATEMENT, None)


def run_statement(
    connection: sqlite3.Connection,
    begin: str | None,
    waiting: list[Statement],
    operation: str,
    parameters: Any,
    many: bool,
) -> Outcome:
    """Execute on the connection's own thread; return what SQLAlchemy reads from a cursor.

    The cursor is closed here even when the request awaiting it was cancelled: sqlite3 cannot
    really close a connection while a statement is unfinished, and its transaction (a writer's
    lock, a reader's snapshot that blocks checkpoints) would stay open until garbage collection.
    """
    cursor = connection.cursor()
    try:
        send_in_order(cursor, begin, [*waiting, (operation, parameters, many)])
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


def run_commit(connection: sqlite3.Connection, begin: str | None, waiting: list[Statement]) -> None:
    """Send what waits for a round trip, then `COMMIT`, on the connection's own thread."""
    cursor = connection.cursor()
    try:
        send_in_order(cursor, begin, waiting)
    finally:
        cursor.close()
    connection.commit()


class Cursor(AsyncAdapt_aiosqlite_cursor):
    """A cursor whose statements each cost one round trip; rows are held, as SQLAlchemy's are."""

    __slots__ = ("_description", "_rowcount", "_lastrowid", "alone", "later")

    def __init__(self, adapt_connection: AsyncAdapt_dbapi_connection) -> None:
        # Unlike the base class, no aiosqlite cursor is made here: that was a round trip too.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None
        self.alone = False  # set by `mark_alone` for a statement run with `ALONE`
        self.later = False  # set by `mark_later` for a statement run with `LATER`

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> Any:
        return self._lastrowid

    async def _async_soft_close(self) -> None:
        """Nothing to close: the driver's cursor was closed on its thread."""

    def close(self) -> None:
        self._rows.clear()

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        try:
            return await_(self._run(operation, parameters, many=False))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    def executemany(self, operation: Any, seq_of_parameters: Sequence[Any]) -> Any:
        try:
            return await_(self._run(operation, seq_of_parameters, many=True))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    async def _run(self, operation: str, parameters: Any, many: bool) -> None:
        connection: Connection = self._adapt_connection  # type: ignore[assignment]
        driver: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        if self.later:
            connection.waiting.append((operation, parameters, many))
            return
        waiting: list[Statement] = []
        async with connection._execute_mutex:
            if self.alone and connection.pending_begin is not None:
                begin = None  # in autocommit mode, its own snapshot; the BEGIN stays pending
            else:
                begin, waiting = connection.take_waiting()
                connection.ran_statements = True
            outcome: Outcome = await driver._execute(  # type: ignore[no-untyped-call]
                run_statement, driver._conn, begin, waiting, operation, parameters, many
            )
        self._description, rows, self._rowcount, self._lastrowid = outcome
        self._rows = collections.deque(rows)


class Connection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ("pending_begin", "waiting", "ran_statements")
    _cursor_cls = Cursor

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self.pending_begin: str | None = None
        self.waiting: list[Statement] = []  # statements run with `LATER`, not sent yet
        self.ran_statements = True  # what ran before this adapter is not known

    def begin(self, statement: str) -> None:
        """Send `statement` (a BEGIN) ahead of the next statement, in its round trip."""
        self.pending_begin = statement

    def take_waiting(self) -> tuple[str | None, list[Statement]]:
        """The pending `BEGIN` and the waiting statements, which the caller now sends."""
        begin, waiting = self.pending_begin, self.waiting
        self.pending_begin, self.waiting = None, []
        return begin, waiting

    def commit(self) -> None:
        if self.waiting:
            self.ran_statements = True  # sent below: if the commit fails, the rollback must run
            try:
                await_(self.commit_waiting())
            except Exception as error:
                self._handle_exception(error)
        else:
            self.pending_begin = None
            if self.ran_statements:
                super().commit()
        self.ran_statements = False  # only once it worked: else the rollback must run

    async def commit_waiting(self) -> None:
        driver: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        async with self._execute_mutex:
            begin, waiting = self.take_waiting()
            await driver._execute(run_commit, driver._conn, begin, waiting)  # type: ignore[no-untyped-call]

    def rollback(self) -> None:
        self.pending_begin, self.waiting = None, []
        if self.ran_statements:
            super().rollback()
            self.ran_statements = False


class Driver(AsyncAdapt_aiosqlite_dbapi):
    """aiosqlite, for SQLAlchemy's `module=` argument, handing out `Connection`s."""

    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        adapted = super().connect(*arg, **kw)
        return Connection(self, adapted._connection)


def driver() -> Driver:
    return Driver(aiosqlite, sqlite3)


def mark_alone(
    _conn: Any, cursor: Any, _statement: str, _parameters: Any, context: Any, _many: bool
) -> None:
    """A `before_cursor_execute` listener for reader engines: pass `ALONE` on to the cursor,
    which sees no execution options itself."""
    if context is not None and context.execution_options.get(ALONE) and isinstance(cursor, Cursor):
        cursor.alone = True


def mark_later(
    _conn: Any, cursor: Any, _statement: str, _parameters: Any, context: Any, _many: bool
) -> None:
    """A `before_cursor_execute` listener for the writer engine: pass `LATER` on to the cursor."""
    if context is not None and context.execution_options.get(LATER) and isinstance(cursor, Cursor):
        cursor.later = True
