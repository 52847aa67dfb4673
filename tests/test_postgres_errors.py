"""PostgreSQL's refusals (timeouts, connection limits, lost connections) are 503s to retry."""

import asyncio
import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from app.config import Settings
from tests.helpers.databases import run_admin
from tests.helpers.serving import serving

pytestmark = pytest.mark.postgres


def assert_retry_later(status: int, headers: dict[str, str], body: dict[str, object]) -> None:
    assert status == 503, body
    assert headers["retry-after"] == "1"
    assert headers["content-type"] == "application/problem+json"
    assert body["status"] == 503


@pytest.mark.parametrize("timeout", ["lock_timeout", "statement_timeout"])
async def test_a_row_locked_past_the_servers_timeout_is_a_503(
    fresh_database: Callable[[], Settings], timeout: str
) -> None:
    settings = fresh_database()
    name = make_url(settings.database_url).database
    # Set for the database, as an operator would; the app's connections pick it up.
    run_admin(settings.database_url, f'ALTER DATABASE "{name}" SET {timeout} = 200')
    async with serving(settings) as (client, _database):
        author = (await client.post("/authors", json={"name": "Held"})).json()
        holder = create_async_engine(settings.database_url)
        try:
            async with holder.connect() as connection, connection.begin():
                await connection.execute(text("SELECT id FROM author FOR UPDATE"))
                answer = await client.patch(f"/authors/{author['id']}", json={"bio": "late"})
        finally:
            await holder.dispose()

        assert_retry_later(answer.status_code, dict(answer.headers), answer.json())
        after = (await client.get(f"/authors/{author['id']}")).json()
        assert (after["bio"], after["version"]) == (None, 1)


async def test_a_connection_limit_reached_is_a_503(
    fresh_database: Callable[[], Settings],
) -> None:
    settings = fresh_database()
    role = f"folio_test_{uuid.uuid4().hex[:12]}"
    run_admin(settings.database_url, f'CREATE ROLE "{role}" LOGIN CONNECTION LIMIT 0')
    try:
        limited = make_url(settings.database_url).set(username=role)
        url = limited.render_as_string(hide_password=False)
        async with serving(Settings(database_url=url)) as (client, _database):
            answer = await client.get("/authors")
            assert_retry_later(answer.status_code, dict(answer.headers), answer.json())
    finally:
        run_admin(settings.database_url, f'DROP ROLE IF EXISTS "{role}"')


async def test_a_connection_lost_mid_request_is_a_503_and_the_next_request_works(
    fresh_database: Callable[[], Settings],
) -> None:
    settings = fresh_database()
    name = make_url(settings.database_url).database
    async with serving(settings) as (client, _database):
        author = (await client.post("/authors", json={"name": "Cut off"})).json()
        holder = create_async_engine(settings.database_url)
        try:
            async with holder.connect() as connection, connection.begin():
                await connection.execute(text("SELECT id FROM author FOR UPDATE"))
                patch = asyncio.create_task(
                    client.patch(f"/authors/{author['id']}", json={"bio": "never"})
                )
                # End the app's connection while it waits for the row lock, as a failover would.
                terminate = text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = :name AND wait_event_type = 'Lock'"
                )
                for _ in range(100):
                    await asyncio.sleep(0.05)
                    if (await connection.execute(terminate, {"name": name})).all():
                        break
                answer = await patch
        finally:
            await holder.dispose()

        assert_retry_later(answer.status_code, dict(answer.headers), answer.json())
        again = await client.patch(f"/authors/{author['id']}", json={"bio": "retried"})
        assert again.status_code == 200
        assert again.json()["version"] == 2


@pytest.mark.parametrize("pre_ping", [True, False])
async def test_connections_the_server_closed_are_replaced_before_use_with_the_ping(
    fresh_database: Callable[[], Settings], pre_ping: bool
) -> None:
    settings = fresh_database().model_copy(update={"pool_pre_ping": pre_ping})
    name = make_url(settings.database_url).database
    async with serving(settings) as (client, _database):
        # Fill the pool with idle connections, then end them all, as a server restart would.
        answers = await asyncio.gather(*(client.get("/authors") for _ in range(5)))
        assert {answer.status_code for answer in answers} == {200}
        run_admin(
            settings.database_url,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            f" WHERE datname = '{name}' AND pid <> pg_backend_pid()",
        )
        await asyncio.sleep(0.2)
        answers = [await client.get("/authors") for _ in range(5)]
    statuses = [answer.status_code for answer in answers]
    if pre_ping:
        assert statuses == [200] * 5
    else:
        # Without the ping a closed connection is found in use: that request is a 503.
        assert 503 in statuses
