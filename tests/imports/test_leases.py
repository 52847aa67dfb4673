"""Claims and leases: one runner at a time, and a cancel that reaches a running import."""

from collections.abc import Callable
from datetime import timedelta

from app.config import Settings
from app.db.engine import Database
from app.imports.leases import LeaseRepository
from app.models import Import
from tests.helpers.imports import all_books, ndjson, run_all, served, upload

ROWS = ndjson({"title": "One", "author": "A"}, {"title": "Two", "author": "A"})


async def claim(database: Database, owner: str, lease: timedelta) -> Import | None:
    async with database.writes() as session, session.begin():
        return await LeaseRepository(session, owner, lease).claim()


async def test_a_held_import_is_not_claimed_until_its_lease_runs_out(
    fresh_database: Callable[[], Settings],
) -> None:
    async with served(fresh_database) as (client, database, _settings):
        job = await upload(client, ROWS)
        held = await claim(database, "first", timedelta(minutes=5))
        assert held is not None
        assert str(held.id) == job["id"]
        assert (held.status, held.lease_owner, held.attempts) == ("running", "first", 1)
        assert await claim(database, "second", timedelta(minutes=5)) is None


async def test_a_runner_whose_lease_was_taken_over_cannot_write(
    fresh_database: Callable[[], Settings],
) -> None:
    async with served(fresh_database) as (client, database, _settings):
        await upload(client, ROWS)
        first = await claim(database, "first", timedelta(seconds=-1))  # expired at once
        assert first is not None
        second = await claim(database, "second", timedelta(minutes=5))
        assert second is not None
        assert second.id == first.id
        assert second.attempts == 2
        async with database.writes() as session, session.begin():
            assert await LeaseRepository(session, "first", timedelta(1)).renew(first.id) is None
            renewed = await LeaseRepository(session, "second", timedelta(1)).renew(first.id)
            assert renewed is not None


async def test_cancelling_a_running_import_stops_it_before_its_next_batch(
    fresh_database: Callable[[], Settings],
) -> None:
    async with served(fresh_database) as (client, database, settings):
        job = await upload(client, ROWS)
        # A runner that died holding it: the lease has already run out.
        assert await claim(database, "gone", timedelta(seconds=-1)) is not None
        response = await client.delete(f"/imports/{job['id']}")
        assert response.status_code == 202
        assert response.json()["status"] == "running"
        await run_all(database, settings)
        finished = (await client.get(f"/imports/{job['id']}")).json()
        assert finished["status"] == "cancelled"
        assert finished["finished_at"] is not None
        assert finished["rows_processed"] == 0
        events = (await client.get(f"/imports/{job['id']}/events")).json()["items"]
        assert [event["type"] for event in events][-2:] == ["resumed", "cancelled"]
        assert await all_books(client) == []
        assert (await client.delete(f"/imports/{job['id']}")).status_code == 409
