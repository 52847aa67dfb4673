"""Request and failed-authentication rates, and body sizes."""

import json
from collections.abc import AsyncIterator

import pytest
from httpx import AsyncClient

from app.db.engine import Database
from app.keys.secrets import new_key
from tests.helpers.access import bearer, make_key
from tests.helpers.problems import assert_problem
from tests.keys.conftest import AppClient


async def test_past_the_rate_a_key_gets_429s_and_others_do_not(
    app_client: AppClient, database: Database
) -> None:
    first, second = [bearer(await make_key(database, "read")) for _ in range(2)]
    async with app_client(rate_limit_per_minute=3) as client:
        answers = [await client.get("/tags", headers=first) for _ in range(3)]
        assert [answer.status_code for answer in answers] == [200, 200, 200]
        assert answers[0].headers["ratelimit-policy"] == '"requests";q=3;w=60'
        assert answers[0].headers["ratelimit"].startswith('"requests";r=2;t=')
        refused = await client.get("/tags", headers=first)
        assert_problem(refused, 429, instance="/tags")
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert refused.headers["ratelimit"].startswith('"requests";r=0;t=')
        assert (await client.get("/tags", headers=second)).status_code == 200
        for _ in range(5):  # probes and documentation are never limited
            assert (await client.get("/health/live", headers=first)).status_code == 200
            assert (await client.get("/openapi.json", headers=first)).status_code == 200


async def test_anonymous_requests_are_limited_by_address(app_client: AppClient) -> None:
    async with app_client(rate_limit_per_minute=2) as client:
        assert [(await client.get("/tags")).status_code for _ in range(3)] == [200, 200, 429]


async def test_zero_switches_the_rate_limit_off(app_client: AppClient) -> None:
    async with app_client(rate_limit_per_minute=0) as client:
        answers = [await client.get("/tags") for _ in range(30)]
        assert {answer.status_code for answer in answers} == {200}
        assert "ratelimit" not in answers[0].headers


async def test_failed_authentications_lock_the_address_out(
    app_client: AppClient, database: Database
) -> None:
    good = bearer(await make_key(database, "admin"))
    async with app_client(auth_failures_per_minute=2) as client:
        for _ in range(2):
            assert_problem(await client.get("/tags", headers=bearer(new_key())), 401)
        locked = await client.get("/tags", headers=good)
        assert_problem(locked, 429, instance="/tags")
        assert int(locked.headers["retry-after"]) >= 1
        assert locked.headers["ratelimit-policy"] == '"auth-failures";q=2;w=60'
        assert (await client.get("/health/live")).status_code == 200


async def test_a_body_over_the_limit_is_a_413_and_changes_nothing(
    app_client: AppClient, database: Database
) -> None:
    write = bearer(await make_key(database, "write"))
    async with app_client(max_body_bytes=100) as client:
        body = json.dumps({"name": "x" * 150}).encode()
        answer = await client.post("/authors", content=body, headers=write)
        assert_problem(answer, 413, instance="/authors")

        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(10):
                yield b" " * 50

        streamed = await client.post(
            "/authors",
            content=chunks(),
            headers={**write, "Content-Type": "application/json"},
        )
        assert_problem(streamed, 413, instance="/authors")
        small = await client.post("/authors", json={"name": "fits"}, headers=write)
        assert small.status_code == 201
        assert (await client.get("/authors")).json()["meta"]["total"] == 1


async def test_cors_lets_listed_origins_in_preflight_included(app_client: AppClient) -> None:
    origin = "https://app.example"
    async with app_client(cors_origins=f"{origin}, https://other.example") as client:
        preflight = await client.options(
            "/authors",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == origin
        assert "POST" in preflight.headers["access-control-allow-methods"]
        assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
        answer = await client.get("/tags", headers={"Origin": origin})
        assert answer.headers["access-control-allow-origin"] == origin
        assert "etag" in answer.headers["access-control-expose-headers"].lower()
        stranger = await client.get("/tags", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in stranger.headers


@pytest.mark.parametrize(
    ("origin", "method", "headers", "refused"),
    [
        ("https://evil.example", "POST", "content-type", "origin"),
        ("https://app.example", "PUT", "content-type", "method"),
        ("https://app.example", "POST", "authorization, x-secret", "headers"),
        ("https://evil.example", "GET", "x-secret", "origin, headers"),
    ],
)
async def test_a_refused_preflight_is_a_problem(
    app_client: AppClient, origin: str, method: str, headers: str, refused: str
) -> None:
    async with app_client(cors_origins="https://app.example") as client:
        preflight = await client.options(
            "/authors",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": method,
                "Access-Control-Request-Headers": headers,
            },
        )
        body = assert_problem(preflight, 400, instance="/authors")
        assert body["detail"].endswith(f": {refused}.")
        assert "request_id" in body
        # What is allowed is still said, so a browser's console can tell why.
        assert "POST" in preflight.headers["access-control-allow-methods"]
        allowed = origin if origin == "https://app.example" else None
        assert preflight.headers.get("access-control-allow-origin") == allowed


async def test_no_origin_is_allowed_by_default(client: AsyncClient) -> None:
    preflight = await client.options(
        "/authors",
        headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers


async def test_requests_refused_for_want_of_a_key_count_against_the_address(
    app_client: AppClient,
) -> None:
    """Anonymous writes are refused with 401s, and still count: past the limit they, and the
    address's reads, are 429s."""
    async with app_client(rate_limit_per_minute=3) as client:
        refused = [await client.post("/authors", json={"name": "x"}) for _ in range(3)]
        assert [answer.status_code for answer in refused] == [401, 401, 401]
        assert refused[0].headers["ratelimit"].startswith('"requests";r=2;t=')
        assert_problem(await client.post("/authors", json={"name": "x"}), 429)
        assert_problem(await client.get("/tags"), 429)


async def test_anonymous_reads_and_writes_share_the_address_limit(app_client: AppClient) -> None:
    async with app_client(rate_limit_per_minute=4) as client:
        answers = [
            await client.get("/tags"),
            await client.post("/books", json={}),
            await client.get("/books"),
            await client.delete("/tags"),
            await client.get("/tags"),
        ]
        assert [answer.status_code for answer in answers] == [200, 401, 200, 401, 429]


async def test_a_bad_key_counts_against_the_address_and_as_a_failure(
    app_client: AppClient,
) -> None:
    async with app_client(rate_limit_per_minute=2, auth_failures_per_minute=10) as client:
        answers = [await client.get("/tags", headers=bearer(new_key())) for _ in range(3)]
        assert [answer.status_code for answer in answers] == [401, 401, 429]
        assert answers[0].headers["www-authenticate"] == "Bearer"


async def test_a_key_without_the_scope_counts_against_the_key(
    app_client: AppClient, database: Database
) -> None:
    reader = bearer(await make_key(database, "read"))
    async with app_client(rate_limit_per_minute=2) as client:
        answers = [
            await client.post("/authors", json={"name": "x"}, headers=reader) for _ in range(3)
        ]
        assert [answer.status_code for answer in answers] == [403, 403, 429]
        assert (await client.get("/tags")).status_code == 200  # the address has its own count
