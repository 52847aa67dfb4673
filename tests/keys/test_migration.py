"""Existing idempotency keys move to the anonymous owner, and back on downgrade."""

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Uuid, column, insert, table, text
from sqlalchemy.engine import Connection

from tests.conftest import SERVER_URL
from tests.helpers.databases import scratch_database
from tests.test_migrations import inspect_database

BEFORE_KEYS = "2a964525d9fe"
SCOPING = "8c3d2e4f6a90"


def test_existing_idempotency_keys_move_to_the_anonymous_owner(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    row = {
        "created_at": now,
        "updated_at": now,
        "version": 1,
        "key": "retry-1",
        "fingerprint": "f" * 64,
        "status": 201,
        "body": "{}",
        "headers": "{}",
        "expires_at": now + timedelta(hours=24),
    }

    def insert_row(connection: Connection) -> None:
        keys = table("idempotency_key", column("id", Uuid()), *map(column, row))
        connection.execute(insert(keys).values(id=uuid.uuid4(), **row))
        connection.commit()

    def owners(connection: Connection) -> list[tuple[str, str]]:
        rows = connection.execute(text("SELECT api_key_id, key FROM idempotency_key"))
        return [(str(owner).replace("-", ""), key) for owner, key in rows]

    def keys(connection: Connection) -> list[str]:
        return list(connection.execute(text("SELECT key FROM idempotency_key")).scalars())

    with scratch_database(tmp_path, SERVER_URL) as database:
        database.upgrade(BEFORE_KEYS)
        inspect_database(database.url, insert_row)
        database.upgrade(SCOPING)
        assert inspect_database(database.url, owners) == [("0" * 32, "retry-1")]
        database.downgrade(BEFORE_KEYS)
        assert inspect_database(database.url, keys) == ["retry-1"]


def test_downgrading_drops_values_that_two_api_keys_shared(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    common = {
        "created_at": now,
        "updated_at": now,
        "version": 1,
        "fingerprint": "f" * 64,
        "status": 201,
        "body": "{}",
        "headers": "{}",
        "expires_at": now + timedelta(hours=24),
    }

    def insert_rows(connection: Connection) -> None:
        keys = table(
            "idempotency_key",
            column("id", Uuid()),
            column("api_key_id", Uuid()),
            column("key"),
            *map(column, common),
        )
        for owner, key in [(1, "shared"), (2, "shared"), (1, "own")]:
            values = {"id": uuid.uuid4(), "api_key_id": uuid.UUID(int=owner), "key": key}
            connection.execute(insert(keys).values(**values, **common))
        connection.commit()

    def keys(connection: Connection) -> list[str]:
        return list(connection.execute(text("SELECT key FROM idempotency_key")).scalars())

    with scratch_database(tmp_path, SERVER_URL) as database:
        database.upgrade(SCOPING)
        inspect_database(database.url, insert_rows)
        database.downgrade(BEFORE_KEYS)
        assert inspect_database(database.url, keys) == ["own"]
