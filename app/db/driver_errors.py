"""What the databases report of an error: PostgreSQL's SQLSTATE, and the constraint a write
violated. errors.py turns the constraint into an answer; faults.py names what stops the
database serving.

PostgreSQL reports a SQLSTATE and names the constraint; SQLite reports neither, so its
messages are read, and the statement tells which foreign key failed.
"""

import re

from sqlalchemy import Index, UniqueConstraint
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel

from app.db.sqlite_driver import failed_statement

LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE for a lock_timeout that ran out
# PostgreSQL's SQLSTATEs for a transaction it rolled back so that others could go on: the
# same request, run again, may well succeed (app/edge/retry.py).
POSTGRES_ROLLED_BACK = frozenset(
    {
        "40001",  # serialization_failure
        "40P01",  # deadlock_detected: this transaction was the one rolled back
    }
)
# Every PostgreSQL SQLSTATE that means "retry shortly": the request was fine, the moment was not.
POSTGRES_BUSY = POSTGRES_ROLLED_BACK | {
    LOCK_NOT_AVAILABLE,
    "57014",  # query_canceled: statement_timeout ran out
    "53300",  # too_many_connections: the server's (or role's) connection limit
}
# SQLSTATE classes meaning the server cannot serve at all: connection exceptions,
# insufficient resources, and the server shutting down, crashing or starting up.
POSTGRES_UNREACHABLE = ("08", "53", "57P")


def sqlstate(exc: BaseException) -> str | None:
    """PostgreSQL's SQLSTATE for a database error; None on SQLite, which reports none."""
    return getattr(getattr(exc, "orig", None), "sqlstate", None)


def is_postgres_busy(exc: BaseException) -> bool:
    """Tell whether PostgreSQL refused for a moment (a lock or statement timeout, a deadlock)."""
    return sqlstate(exc) in POSTGRES_BUSY


def is_postgres_rolled_back(exc: BaseException) -> bool:
    """Tell whether PostgreSQL rolled the transaction back so that others could go on (a
    deadlock, a serialization conflict): run again, the same request may well succeed."""
    return sqlstate(exc) in POSTGRES_ROLLED_BACK


def is_postgres_unreachable(exc: BaseException) -> bool:
    """Tell whether PostgreSQL could not serve at all (connection lost, shutting down, full)."""
    code = sqlstate(exc)
    return code is not None and code.startswith(POSTGRES_UNREACHABLE)


def violated_constraint(exc: IntegrityError) -> str | None:
    """Name the constraint an integrity error broke, reading each driver's own report."""
    driver_error = getattr(exc.orig, "driver_exception", None)
    name = getattr(driver_error, "constraint_name", None)  # asyncpg names it outright
    if name is not None:
        return str(name)
    message = str(exc.orig)
    # SQLite reports "UNIQUE constraint failed: book.isbn" for unique constraints ...
    if match := re.match(r"UNIQUE constraint failed: ([\w.]+(?:, [\w.]+)*)", message):
        return unique_constraint_on(match.group(1).split(", "))
    # ... and only "FOREIGN KEY constraint failed" for foreign keys, so the statement's
    # table tells which key: the one it holds (insert, update) or the one aimed at it (delete).
    if message.startswith("FOREIGN KEY constraint failed"):
        return foreign_key_for_statement(failing_statement(exc))
    if match := re.match(r"CHECK constraint failed: (\w+)", message):
        return match.group(1)
    return None


def failing_statement(exc: IntegrityError) -> str:
    """The statement that broke the constraint. On SQLite it may have been sent ahead of the
    one SQLAlchemy ran, or of the commit (app/db/sqlite_driver.py), and the driver names it."""
    return failed_statement(exc.orig) or exc.statement or ""


def unique_constraint_on(columns: list[str]) -> str | None:
    """Name the unique constraint or index covering exactly these `table.column`s."""
    table_name = columns[0].split(".")[0]
    wanted = {column.split(".")[1] for column in columns}
    table = SQLModel.metadata.tables.get(table_name)
    if table is None:
        return None
    candidates: list[UniqueConstraint | Index] = [
        *(item for item in table.constraints if isinstance(item, UniqueConstraint)),
        *(item for item in table.indexes if item.unique),
    ]
    for candidate in candidates:
        if {column.name for column in candidate.columns} == wanted:
            return str(candidate.name)
    return None


def foreign_key_for_statement(statement: str) -> str | None:
    """Name the only foreign key a statement can have broken, if there is just one."""
    match = re.match(r"\s*(INSERT INTO|UPDATE|DELETE FROM)\s+\"?(\w+)", statement, re.IGNORECASE)
    if match is None:
        return None
    verb, table_name = match.group(1).upper(), match.group(2)
    all_keys = [
        key for table in SQLModel.metadata.tables.values() for key in table.foreign_key_constraints
    ]
    if verb == "DELETE FROM":
        # A key that cascades cannot fail a delete.
        keys = [
            key
            for key in all_keys
            if key.referred_table.name == table_name and key.ondelete != "CASCADE"
        ]
    else:
        keys = [key for key in all_keys if key.table.name == table_name]
        # A link row points at a row the request named and at its owner, which the same
        # request wrote (and whose key cascades): the first is the one that can be missing.
        if len(keys) > 1:
            keys = [key for key in keys if key.ondelete != "CASCADE"]
    return str(keys[0].name) if len(keys) == 1 else None
