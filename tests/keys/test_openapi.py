"""Every operation that changes data is guarded, as the OpenAPI document lists them all."""

import re
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from app.config import Settings
from app.db.engine import Database
from app.main import create_app
from tests.helpers.access import bearer, make_key
from tests.helpers.databases import ScratchDatabase

SOME_ID = "01234567-89ab-7def-8123-456789abcdef"
READ_METHODS = {"get", "head", "options"}


def operations(app: FastAPI) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in app.openapi()["paths"].items()
        for method, operation in item.items()
    ]


async def test_every_write_operation_needs_a_key_and_the_right_scope(
    app: FastAPI, client: AsyncClient, database: Database
) -> None:
    read = bearer(await make_key(database, "read"))
    client.headers.pop("Authorization")
    writes = [(m, p) for m, p, _ in operations(app) if m not in READ_METHODS]
    assert len(writes) >= 7  # authors, books (POST, PATCH, DELETE) and key management
    for method, template in writes:
        path = re.sub(r"\{[^}]+\}", SOME_ID, template)
        anonymous = await client.request(method, path)
        assert anonymous.status_code == 401, (method, path, anonymous.text)
        assert anonymous.headers["www-authenticate"] == "Bearer"
        reader = await client.request(method, path, headers=read)
        assert reader.status_code == 403, (method, path, reader.text)


def access_of(settings: Settings) -> dict[tuple[str, str], tuple[Any, set[str]]]:
    """Each operation's security requirement and the access answers it documents."""
    document = create_app(settings).openapi()
    scheme = document["components"]["securitySchemes"]["bearer"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    return {
        (method, path): (
            operation.get("security"),
            {status for status in ("401", "403", "429") if status in operation["responses"]},
        )
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }


NEEDED: list[dict[str, list[str]]] = [{"bearer": []}]
OPTIONAL: list[dict[str, list[str]]] = [{}, {"bearer": []}]


@pytest.mark.parametrize("reads_require_key", [False, True])
def test_the_document_asks_for_a_key_exactly_where_one_is_needed(
    migrated: ScratchDatabase, reads_require_key: bool
) -> None:
    settings = Settings(database_url=migrated.url, reads_require_key=reads_require_key)
    found = access_of(settings)
    assert len(found) >= 20
    for (method, path), (security, statuses) in found.items():
        where = (method, path, security, statuses)
        if path.startswith("/health/"):
            assert (security, statuses) == (None, set()), where
        elif path.startswith("/api-keys") or method not in READ_METHODS:
            assert (security, statuses) == (NEEDED, {"401", "403", "429"}), where
        elif reads_require_key:
            # Every key may read, so no key is short of the scope: no 403.
            assert (security, statuses) == (NEEDED, {"401", "429"}), where
        else:
            # No key is needed, but one that is sent is checked: a 401 if it is unusable.
            assert (security, statuses) == (OPTIONAL, {"401", "429"}), where


def test_in_open_mode_the_document_asks_for_no_key(migrated: ScratchDatabase) -> None:
    found = access_of(Settings(database_url=migrated.url, auth_mode="open"))
    for (method, path), (security, statuses) in found.items():
        assert security is None, (method, path)
        assert statuses == (set() if path.startswith("/health/") else {"429"}), (method, path)
    limitless = Settings(database_url=migrated.url, auth_mode="open", rate_limit_per_minute=0)
    for (method, path), (_security, statuses) in access_of(limitless).items():
        # Only an event stream has a 429 of its own: past its client's cap on open streams.
        expected = {"429"} if path == "/imports/{import_id}/events" else set()
        assert statuses == expected, (method, path)


def test_every_access_answer_is_a_problem(app: FastAPI) -> None:
    for method, path, operation in operations(app):
        for status in ("401", "403", "429"):
            if status in operation["responses"]:
                answer = operation["responses"][status]
                assert "application/problem+json" in answer["content"], (method, path, status)


def limit_headers_of(settings: Settings) -> dict[tuple[str, str, str], set[str]]:
    """The rate-limit headers each answer of each operation documents."""
    document = create_app(settings).openapi()
    return {
        (method, path, status): {
            name
            for name in ("RateLimit", "RateLimit-Policy", "Retry-After")
            if name in answer.get("headers", {})
        }
        for path, item in document["paths"].items()
        for method, operation in item.items()
        for status, answer in operation["responses"].items()
    }


def test_every_limited_answer_documents_the_rate_limit_headers(migrated: ScratchDatabase) -> None:
    found = limit_headers_of(Settings(database_url=migrated.url))
    assert len(found) > 100
    for (method, path, status), headers in found.items():
        where = (method, path, status, headers)
        if path.startswith("/health/"):
            # Never rate-limited; a 503 says when to look again.
            assert headers == ({"Retry-After"} if status == "503" else set()), where
        elif status == "500":
            # Sent from outside the access check.
            assert headers == set(), where
        elif status in ("429", "503"):
            assert headers == {"RateLimit", "RateLimit-Policy", "Retry-After"}, where
        else:
            assert headers == {"RateLimit", "RateLimit-Policy"}, where


def test_the_rate_limit_headers_are_documented_as_the_settings_make_them(
    migrated: ScratchDatabase,
) -> None:
    settings = Settings(database_url=migrated.url, rate_limit_per_minute=1200)
    headers = create_app(settings).openapi()["components"]["headers"]
    assert headers["RateLimit-Policy"]["schema"]["enum"] == [
        '"requests";q=1200;w=60',
        '"auth-failures";q=20;w=60',
    ]
    # The longest value has every request of its limit left.
    longest = ('"requests";r=1200;t=60', '"auth-failures";r=20;t=60')
    assert headers["RateLimit"]["schema"]["maxLength"] == max(len(value) for value in longest)

    # Without the request limit, only the 429 of failed authentications carries them.
    failures = Settings(database_url=migrated.url, rate_limit_per_minute=0)
    for (method, path, status), found in limit_headers_of(failures).items():
        if status == "429":
            assert "RateLimit" in found, (method, path)
        else:
            assert "RateLimit" not in found, (method, path, status)
    # With neither limit, no answer does.
    limitless = Settings(database_url=migrated.url, auth_mode="open", rate_limit_per_minute=0)
    assert not [
        where for where, found in limit_headers_of(limitless).items() if "RateLimit" in found
    ]
