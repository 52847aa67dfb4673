"""The OpenAPI document: readable operation ids, one Problem schema, examples, the 500."""

from typing import Any

import pytest
from fastapi.routing import APIRoute
from httpx import AsyncClient
from sqlmodel import SQLModel

from app.authors.router import router as authors_router
from app.authors.schemas import AuthorCreate, AuthorUpdate
from app.books.router import router as books_router
from app.books.schemas import BookCreate, BookUpdate
from app.exports.router import router as exports_router
from app.health.router import router as health_router
from app.imports.router import router as imports_router
from app.keys.router import router as keys_router
from app.kit.errors import PROBLEM_JSON, PROBLEM_SCHEMA
from app.tags.router import router as tags_router

ROUTERS = (
    authors_router,
    books_router,
    tags_router,
    health_router,
    keys_router,
    imports_router,
    exports_router,
)
PROBLEM_REF = "#/components/schemas/Problem"


async def openapi(client: AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" not in schema:
        return schema
    name = schema["$ref"].removeprefix("#/components/schemas/")
    resolved: dict[str, Any] = document["components"]["schemas"][name]
    return resolved


async def test_operation_ids_are_the_route_names(client: AsyncClient) -> None:
    document = await openapi(client)
    expected = {
        (method, route.path): route.name
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    }

    ids = {(method, path): op["operationId"] for method, path, op in operations(document)}

    assert ids == expected
    assert len(set(ids.values())) == len(ids)
    assert {"list_books", "get_book", "create_author", "list_tags"} <= set(ids.values())


async def test_every_error_answer_refers_to_the_one_problem_schema(client: AsyncClient) -> None:
    document = await openapi(client)
    assert document["components"]["schemas"]["Problem"] == PROBLEM_SCHEMA

    for method, path, operation in operations(document):
        responses = operation["responses"].items()
        errors = {status: answer for status, answer in responses if status[0] in "45"}
        assert errors, f"{method} {path} documents no error"
        for status, answer in errors.items():
            assert answer["content"] == {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}}, (
                f"{method} {path} {status}"
            )
    # No inline copy anywhere: the schema's properties appear once, in the component.
    assert str(document).count(str(PROBLEM_SCHEMA["properties"]["instance"])) == 1


async def test_every_operation_documents_the_500(client: AsyncClient) -> None:
    document = await openapi(client)
    missing = [
        f"{method} {path}"
        for method, path, operation in operations(document)
        if "500" not in operation["responses"]
    ]
    assert missing == []


async def test_every_request_body_has_an_example(client: AsyncClient) -> None:
    document = await openapi(client)
    bodies = [
        (f"{method} {path}", operation["requestBody"])
        for method, path, operation in operations(document)
        if "requestBody" in operation
    ]
    assert {"POST /authors", "PATCH /books/{book_id}", "POST /imports"} <= {n for n, _ in bodies}

    for name, body in bodies:
        if "application/json" not in body["content"]:
            # A file upload: an example file per media type.
            assert all(media.get("example") for media in body["content"].values()), name
            continue
        schema = resolve(document, body["content"]["application/json"]["schema"])
        examples = schema.get("examples", [])
        assert examples, f"{name} has no example"
        assert set(examples[0]) <= set(schema["properties"]), name
        assert set(schema.get("required", [])) <= set(examples[0]), name


async def test_the_docs_pages_are_left_out_of_the_document(client: AsyncClient) -> None:
    document = await openapi(client)
    assert not [path for path in document["paths"] if path.startswith(("/docs", "/redoc"))]


@pytest.mark.parametrize("body", [AuthorCreate, AuthorUpdate, BookCreate, BookUpdate])
def test_request_examples_pass_validation(body: type[SQLModel]) -> None:
    examples = body.model_json_schema()["examples"]
    for example in examples:
        body.model_validate(example)


async def test_import_options_and_warnings_are_described(client: AsyncClient) -> None:
    document = await openapi(client)
    upload = document["paths"]["/imports"]["post"]
    assert "charset" in upload["description"]
    parameters = {parameter["name"]: parameter for parameter in upload["parameters"]}
    for name in ("columns", "unknown_columns", "delimiter", "author_separator"):
        assert parameters[name]["description"], name
    warnings = document["paths"]["/imports/{import_id}/warnings"]["get"]
    assert warnings["summary"]
    page = resolve(document, warnings["responses"]["200"]["content"]["application/json"]["schema"])
    item = resolve(document, page["properties"]["items"]["items"])
    assert set(item["properties"]) == {"line", "loc", "msg", "type", "value"}
    read = document["components"]["schemas"]["ImportRead"]["properties"]
    for name in ("warnings", "ignored_columns", "columns", "delimiter", "charset"):
        assert name in read, name
