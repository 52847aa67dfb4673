"""`/api-keys`: make, list and revoke keys; only `admin` keys may."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient

from app.db.engine import Database
from tests.helpers.access import bearer, make_key
from tests.helpers.problems import assert_invalid, assert_problem

LISTED = {
    "id",
    "name",
    "scope",
    "prefix",
    "created_at",
    "expires_at",
    "last_used_at",
    "revoked_at",
}


async def create_key(client: AsyncClient, **body: Any) -> Any:
    answer = await client.post("/api-keys", json={"name": "ci", "scope": "write", **body})
    assert answer.status_code == 201, answer.text
    return answer.json()


async def test_a_new_key_is_shown_once_and_listed_without_its_secret(client: AsyncClient) -> None:
    expires = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    created = await create_key(client, expires_at=expires)
    assert set(created) == LISTED | {"key"}
    assert created["key"].startswith("folio_")
    assert created["key"].startswith(created["prefix"])
    assert created["scope"] == "write"
    assert created["revoked_at"] is None
    listed = (await client.get("/api-keys")).json()["items"]
    mine = [key for key in listed if key["id"] == created["id"]]
    assert mine == [{name: created[name] for name in LISTED}]
    assert all(set(key) == LISTED for key in listed)
    assert created["key"] not in (await client.get("/api-keys")).text


async def test_a_new_key_works_at_once_with_its_scope(client: AsyncClient) -> None:
    created = await create_key(client, scope="write")
    headers = bearer(created["key"])
    assert (await client.post("/authors", json={"name": "A"}, headers=headers)).status_code == 201
    assert (await client.get("/api-keys", headers=headers)).status_code == 403


async def test_a_revoked_key_is_refused_at_once(client: AsyncClient) -> None:
    created = await create_key(client)
    headers = bearer(created["key"])
    answer = await client.delete(f"/api-keys/{created['id']}")
    assert answer.status_code == 204
    refused = await client.post("/authors", json={"name": "A"}, headers=headers)
    assert_problem(refused, 401, instance="/authors")
    (listed,) = [
        key for key in (await client.get("/api-keys")).json()["items"] if key["id"] == created["id"]
    ]
    assert listed["revoked_at"] is not None
    # Revoking again changes nothing; the first revocation time stays.
    assert (await client.delete(f"/api-keys/{created['id']}")).status_code == 204
    (again,) = [
        key for key in (await client.get("/api-keys")).json()["items"] if key["id"] == created["id"]
    ]
    assert again["revoked_at"] == listed["revoked_at"]


async def test_revoking_a_missing_key_is_a_404_and_a_bad_id_a_422(client: AsyncClient) -> None:
    missing = "/api-keys/01234567-89ab-7def-8123-456789abcdef"
    assert_problem(await client.delete(missing), 404, instance=missing)
    assert_invalid(
        await client.delete("/api-keys/nope"), "/api-keys/nope", ["path", "key_id"], "uuid_parsing"
    )


@pytest.mark.parametrize(
    ("body", "loc", "type_"),
    [
        ({"name": "x", "scope": "root"}, ["body", "scope"], "literal_error"),
        ({"name": "x" * 10_000, "scope": "read"}, ["body", "name"], "string_too_long"),
        ({"name": "  ", "scope": "read"}, ["body", "name"], "string_too_short"),
        (
            {"name": "x", "scope": "read", "expires_at": "2001-01-01T00:00:00Z"},
            ["body", "expires_at"],
            "value_error",
        ),
        (
            {"name": "x", "scope": "read", "expires_at": "2999-01-01T00:00:00"},
            ["body", "expires_at"],
            "timezone_aware",
        ),
        ({"name": "x", "scope": "read", "secret": "mine"}, ["body", "secret"], "extra_forbidden"),
    ],
)
async def test_bad_input_is_a_422_and_makes_no_key(
    client: AsyncClient, body: dict[str, Any], loc: list[str], type_: str
) -> None:
    before = (await client.get("/api-keys")).json()["meta"]["total"]
    assert_invalid(await client.post("/api-keys", json=body), "/api-keys", loc, type_)
    assert (await client.get("/api-keys")).json()["meta"]["total"] == before


async def test_key_management_needs_admin(client: AsyncClient, database: Database) -> None:
    for scope in ("read", "write"):
        headers = bearer(await make_key(database, scope))
        assert_problem(await client.get("/api-keys", headers=headers), 403, instance="/api-keys")
        answer = await client.post(
            "/api-keys", json={"name": "x", "scope": "admin"}, headers=headers
        )
        assert_problem(answer, 403, instance="/api-keys")
    anonymous = await client.get("/api-keys", headers={"Authorization": ""})
    assert_problem(anonymous, 401, instance="/api-keys")


async def test_listing_pages_and_sorts(client: AsyncClient) -> None:
    for name in ("b", "a", "c"):
        await create_key(client, name=name)
    page = (await client.get("/api-keys", params={"sort": "name", "per_page": 2})).json()
    assert [key["name"] for key in page["items"]] == ["a", "b"]
    assert page["meta"]["total"] == 4  # the client's own admin key too
