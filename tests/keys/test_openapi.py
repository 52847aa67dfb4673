"""Every operation that changes data is guarded, as the OpenAPI document lists them all."""

import re
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient

from app.db.engine import Database
from tests.helpers.access import bearer, make_key

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


def test_the_document_declares_the_bearer_scheme_and_the_access_answers(app: FastAPI) -> None:
    document = app.openapi()
    scheme = document["components"]["securitySchemes"]["bearer"]
    assert scheme["type"] == "http"
    assert scheme["scheme"] == "bearer"
    for method, path, operation in operations(app):
        if path.startswith("/health/"):
            continue
        assert {"bearer": []} in operation["security"], (method, path)
        for status in ("401", "403", "429"):
            answer = operation["responses"][status]
            assert "application/problem+json" in answer["content"], (method, path, status)
