"""Who may do what: 401 for any unusable key, 403 for a missing scope, nothing for reads."""

import uuid
from datetime import timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from sqlmodel import col, update

from app.db.engine import Database
from app.keys.secrets import new_key
from app.models import ApiKey, utcnow
from tests.helpers.access import bearer, make_key
from tests.helpers.problems import assert_problem, same_problem
from tests.keys.conftest import AppClient

AUTHOR = {"name": "Guarded"}


async def expire(database: Database, key_id: str, **values: Any) -> None:
    async with database.writes() as session, session.begin():
        statement = update(ApiKey).where(col(ApiKey.id) == uuid.UUID(key_id))
        await session.exec(statement.values(**values))


async def unusable_keys(client: AsyncClient, database: Database) -> dict[str, str | None]:
    """One Authorization header for each way a key can be unusable."""
    expired = (await client.post("/api-keys", json={"name": "e", "scope": "admin"})).json()
    await expire(database, expired["id"], expires_at=utcnow() - timedelta(seconds=1))
    revoked = (await client.post("/api-keys", json={"name": "r", "scope": "admin"})).json()
    assert (await client.delete(f"/api-keys/{revoked['id']}")).status_code == 204
    good = await make_key(database)
    return {
        "missing": None,
        "not bearer": f"Basic {good}",
        "malformed": "Bearer folio_short",
        "bad checksum": f"Bearer {good[:-1]}{'A' if good[-1] != 'A' else 'B'}",
        "unknown": f"Bearer {new_key()}",
        "expired": f"Bearer {expired['key']}",
        "revoked": f"Bearer {revoked['key']}",
    }


async def test_every_unusable_key_gets_the_same_401(
    client: AsyncClient, database: Database
) -> None:
    bodies = []
    for header in (await unusable_keys(client, database)).values():
        headers = {"Authorization": header} if header is not None else {}
        client.headers.pop("Authorization", None)
        answer = await client.post("/authors", json=AUTHOR, headers=headers)
        body = assert_problem(answer, 401, instance="/authors")
        assert answer.headers["www-authenticate"] == "Bearer"
        bodies.append(body)
    assert all(same_problem(body) == same_problem(bodies[0]) for body in bodies)
    assert (await client.get("/authors", headers=bearer(await make_key(database)))).json()["meta"][
        "total"
    ] == 0


async def test_a_sent_key_is_checked_even_where_none_is_needed(
    client: AsyncClient, database: Database
) -> None:
    for name, header in (await unusable_keys(client, database)).items():
        if header is None:
            continue
        answer = await client.get("/authors", headers={"Authorization": header})
        assert_problem(answer, 401, instance="/authors")
        assert answer.headers["www-authenticate"] == "Bearer", name
    client.headers.pop("Authorization")
    assert (await client.get("/authors")).status_code == 200


@pytest.mark.parametrize("path", ["/health/live", "/health/ready", "/openapi.json", "/docs"])
async def test_health_and_docs_never_need_or_check_a_key(client: AsyncClient, path: str) -> None:
    answer = await client.get(path, headers={"Authorization": "Bearer nonsense"})
    assert answer.status_code == 200


async def test_scopes_nest(client: AsyncClient, database: Database) -> None:
    read, write, admin = [bearer(await make_key(database, scope)) for scope in SCOPES]
    assert (await client.get("/authors", headers=read)).status_code == 200
    assert_problem(
        await client.post("/authors", json=AUTHOR, headers=read), 403, instance="/authors"
    )
    created = await client.post("/authors", json=AUTHOR, headers=write)
    assert created.status_code == 201
    author = f"/authors/{created.json()['id']}"
    assert_problem(
        await client.patch(author, json={"bio": "x"}, headers=read), 403, instance=author
    )
    assert (await client.patch(author, json={"bio": "x"}, headers=admin)).status_code == 200
    assert_problem(await client.delete(author, headers=read), 403, instance=author)
    assert (await client.delete(author, headers=write)).status_code == 204


SCOPES = ("read", "write", "admin")


async def test_reads_can_require_a_key(app_client: AppClient, database: Database) -> None:
    read = bearer(await make_key(database, "read"))
    async with app_client(reads_require_key=True) as client:
        answer = await client.get("/authors")
        assert_problem(answer, 401, instance="/authors")
        assert answer.headers["www-authenticate"] == "Bearer"
        assert (await client.get("/authors", headers=read)).status_code == 200
        assert (await client.get("/health/live")).status_code == 200


async def test_open_mode_requires_nothing(app_client: AppClient) -> None:
    async with app_client(auth_mode="open") as client:
        assert (await client.post("/authors", json=AUTHOR)).status_code == 201
        assert (await client.get("/api-keys")).status_code == 200


async def test_last_use_is_written_at_most_once_a_minute(
    client: AsyncClient, database: Database, statements: list[tuple[str, Any]]
) -> None:
    key = await make_key(database, "read")
    await client.get("/tags", headers=bearer(key))
    await client.get("/tags", headers=bearer(key))
    writes = [sql for sql, _ in statements if sql.startswith("UPDATE api_key")]
    assert len(writes) == 1
    listed = (await client.get("/api-keys", params={"sort": "-created_at"})).json()["items"]
    assert listed[0]["last_used_at"] is not None


async def test_idempotency_keys_belong_to_the_api_key(
    client: AsyncClient, database: Database
) -> None:
    first, second = [bearer(await make_key(database, "write")) for _ in range(2)]
    answers = []
    for headers in (first, second, first):
        answer = await client.post(
            "/authors", json=AUTHOR, headers={**headers, "Idempotency-Key": "same"}
        )
        answers.append(answer)
    assert [answer.status_code for answer in answers] == [201, 201, 201]
    assert answers[0].json()["id"] != answers[1].json()["id"]
    assert answers[2].json() == answers[0].json()
    assert answers[2].headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in answers[1].headers
    assert (await client.get("/authors")).json()["meta"]["total"] == 2


async def test_a_client_without_a_key_is_refused_before_its_body_is_parsed(
    client: AsyncClient,
) -> None:
    client.headers.pop("Authorization")
    for body in (b"{not json", b"[" * 10_000, b'{"name": "x"}'):
        answer = await client.post(
            "/authors", content=body, headers={"Content-Type": "application/json"}
        )
        assert_problem(answer, 401, instance="/authors")
