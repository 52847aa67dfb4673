"""Usable keys kept in process for a second: most requests send no lookup, a revocation holds at
once in the process that answers it, an expiry at once everywhere."""

import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db.engine import Database
from app.keys.cache import KeyCache, UsableKey
from app.models import utcnow
from tests.helpers.access import bearer, make_key


@pytest.fixture
def lookups(engine: AsyncEngine) -> Iterator[list[str]]:
    """The key lookups the test sends."""
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("SELECT api_key.id, api_key.scope"):
            sent.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    yield sent
    event.remove(engine.sync_engine, "before_cursor_execute", record)


async def test_a_key_used_again_within_a_second_is_not_looked_up_again(
    client: AsyncClient, database: Database, lookups: list[str]
) -> None:
    headers = bearer(await make_key(database, "read"))
    for _ in range(5):
        assert (await client.get("/tags", headers=headers)).status_code == 200
    assert len(lookups) == 1


async def test_a_key_revoked_here_is_refused_at_once_though_it_was_kept(
    client: AsyncClient,
) -> None:
    created = (await client.post("/api-keys", json={"name": "brief", "scope": "write"})).json()
    headers = {"Authorization": f"Bearer {created['key']}"}
    assert (await client.post("/authors", json={"name": "A"}, headers=headers)).status_code == 201
    assert (await client.delete(f"/api-keys/{created['id']}")).status_code == 204
    refused = await client.post("/authors", json={"name": "B"}, headers=headers)
    assert refused.status_code == 401


def usable(expires_in: float | None = None) -> UsableKey:
    expires_at = None if expires_in is None else utcnow() + timedelta(seconds=expires_in)
    return UsableKey(uuid.uuid4(), "read", None, expires_at)


def test_a_kept_key_is_looked_up_again_after_its_second() -> None:
    cache = KeyCache(seconds=0.05)
    key = usable()
    cache.put("h", key)
    assert cache.get("h") == key
    time.sleep(0.06)
    assert cache.get("h") is None


def test_a_kept_key_that_expires_is_refused_at_once() -> None:
    cache = KeyCache(seconds=60)
    cache.put("h", usable(expires_in=-0.001))
    assert cache.get("h") is None


def test_the_cache_keeps_at_most_its_size_the_oldest_going_first() -> None:
    cache = KeyCache(size=2)
    keys = [usable() for _ in range(3)]
    for n, key in enumerate(keys):
        cache.put(f"h{n}", key)
    assert [cache.get(f"h{n}") for n in range(3)] == [None, keys[1], keys[2]]


def test_a_revoked_key_stays_out_even_if_a_racing_lookup_puts_it_back() -> None:
    cache = KeyCache()
    key = usable()
    cache.put("h", key)
    cache.revoke(key.id)
    assert cache.get("h") is None
    cache.put("h", key)  # a lookup that read the key before the revocation committed
    assert cache.get("h") is None
