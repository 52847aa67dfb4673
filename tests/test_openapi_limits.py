"""The OpenAPI document as `make lint-openapi` holds it: every string, integer and array
bounded (but where the Spectral ruleset says why not), pages named, tags described, and the
headers it documents the ones answers carry."""

import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import unquote

import jsonschema_rs
import pytest
import yaml  # type: ignore[import-untyped]

from app.commands.openapi import default_document
from app.config import Settings
from app.db.migrations import PROJECT_ROOT
from app.kit.openapi import (
    DATA_KEYS,
    bounded_formats,
    integer_formats,
    operations,
    parameters_never_null,
    with_steps,
)
from app.kit.schemas import MAX_TIMESTAMP_LENGTH
from app.main import create_app
from tests.helpers.serving import serving

# The document `make lint-openapi` lints, and the rules its ruleset turns off, by where.
DOCUMENT = default_document()
RULESET = yaml.safe_load((PROJECT_ROOT / ".spectral.yaml").read_text())


def turned_off(rule: str) -> list[str]:
    """The JSON pointers under which the ruleset turns `rule` off."""
    return [
        unquote(pattern.partition("#")[2])
        for override in RULESET.get("overrides", [])
        if override["rules"].get(rule) == "off"
        for pattern in override["files"]
    ]


def located(node: Any, pointer: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every object of the document with its JSON pointer, examples and other data left out."""
    if isinstance(node, dict):
        yield pointer, node
        for key, value in node.items():
            if key not in DATA_KEYS:
                escaped = key.replace("~", "~0").replace("/", "~1")
                yield from located(value, f"{pointer}/{escaped}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from located(value, f"{pointer}/{index}")


def typed(kind: str, rule: str) -> list[tuple[str, dict[str, Any]]]:
    """The schemas of this type that the rule applies to, by pointer."""
    exempt = tuple(turned_off(rule))
    return [
        (pointer, node)
        for pointer, node in located(DOCUMENT)
        if node.get("type") == kind and not pointer.startswith(exempt or ("\0",))
    ]


def test_every_override_of_the_ruleset_names_a_part_of_the_document() -> None:
    """A schema renamed or an operation moved cannot leave a rule turned off for nothing."""
    pointers = {pointer for pointer, _node in located(DOCUMENT)}
    named = [
        unquote(pattern.partition("#")[2])
        for override in RULESET["overrides"]
        for pattern in override["files"]
    ]
    assert named
    assert [pointer for pointer in named if pointer not in pointers] == []


def test_every_string_has_a_bounded_length() -> None:
    strings = typed("string", "owasp:api4:2023-string-limit")
    assert len(strings) > 100
    unbounded = [
        pointer for pointer, schema in strings if not {"maxLength", "enum", "const"} & set(schema)
    ]
    assert unbounded == []


def test_every_integer_has_bounds_and_the_format_that_holds_them() -> None:
    integers = typed("integer", "owasp:api4:2023-integer-limit")
    assert len(integers) > 30
    for pointer, schema in integers:
        assert isinstance(schema.get("minimum"), int), pointer
        assert isinstance(schema.get("maximum"), int), pointer
        bits = {"int32": 32, "int64": 64}[schema["format"]]
        assert -(2 ** (bits - 1)) <= schema["minimum"] <= schema["maximum"] < 2 ** (bits - 1)


def test_every_array_has_a_bounded_length_and_items() -> None:
    arrays = typed("array", "owasp:api4:2023-array-limit")
    assert len(arrays) > 10
    assert [pointer for pointer, schema in arrays if "maxItems" not in schema] == []
    assert [pointer for pointer, schema in arrays if not schema.get("items")] == []


def test_every_example_is_valid_against_its_schema() -> None:
    """Spectral reads no schema's `examples`, so they are checked here (tests/test_seed.py
    shows they are what the server answers)."""
    examples = 0
    for name, schema in DOCUMENT["components"]["schemas"].items():
        root = {"$ref": f"#/components/schemas/{name}", "components": DOCUMENT["components"]}
        validator = jsonschema_rs.Draft202012Validator(root)
        for example in schema.get("examples", []):
            examples += 1
            assert [error.message for error in validator.iter_errors(example)] == [], name
    assert examples >= 12


def test_no_parameter_is_null() -> None:
    for method, path, operation in operations(DOCUMENT):
        for parameter in operation.get("parameters", []):
            schema = parameter["schema"]
            assert "anyOf" not in schema, (method, path, parameter["name"])
            assert "type" in schema, (method, path, parameter["name"])
            assert schema.get("default", "") is not None, (method, path, parameter["name"])


def test_each_list_answers_with_a_page_named_for_what_it_lists() -> None:
    names = set(DOCUMENT["components"]["schemas"])
    assert not [name for name in names if name.startswith("Page_")]
    pages = {
        operation["operationId"]: operation["responses"]["200"]["content"]["application/json"][
            "schema"
        ]["$ref"].removeprefix("#/components/schemas/")
        for _method, _path, operation in operations(DOCUMENT)
        if operation["operationId"].startswith("list_")
    }
    assert pages == {
        "list_authors": "AuthorPage",
        "list_books": "BookPage",
        "list_tags": "TagPage",
        "list_api_keys": "ApiKeyPage",
        "list_imports": "ImportPage",
        "list_import_errors": "ImportErrorPage",
        "list_import_warnings": "ImportWarningPage",
        "list_import_events": "ImportEventPage",
    }


def test_every_tag_is_described_and_the_api_says_who_it_is() -> None:
    tags = {tag["name"]: tag.get("description") for tag in DOCUMENT["tags"]}
    used = {tag for _m, _p, operation in operations(DOCUMENT) for tag in operation["tags"]}
    assert used <= set(tags)
    assert all(tags.values()), tags
    assert DOCUMENT["info"]["description"]
    assert DOCUMENT["info"]["contact"]


def test_every_body_documents_its_limit() -> None:
    settings = Settings()
    for method, path, operation in operations(DOCUMENT):
        if "requestBody" not in operation:
            continue
        assert "413" in operation["responses"], (method, path)
        for media in operation["requestBody"]["content"].values():
            if media["schema"].get("type") == "string":
                assert media["schema"]["maxLength"] == settings.max_import_bytes, (method, path)


def test_every_answer_but_a_500_documents_the_cors_header() -> None:
    header = DOCUMENT["components"]["headers"]["Access-Control-Allow-Origin"]
    assert "CORS_ORIGINS" in header["description"]
    for method, path, operation in operations(DOCUMENT):
        for status, answer in operation["responses"].items():
            documented = "Access-Control-Allow-Origin" in answer.get("headers", {})
            assert documented == (status != "500"), (method, path, status)


def test_the_document_does_not_follow_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTH_MODE", "open")
    monkeypatch.setenv("RATE_LIMIT_PER_MINUTE", "0")
    assert default_document() == DOCUMENT


async def test_answers_carry_the_headers_as_documented(
    fresh_database: Callable[[], Settings],
) -> None:
    origin = "https://catalogue.example"
    settings = fresh_database().model_copy(
        update={"rate_limit_per_minute": 600, "cors_origins": origin}
    )
    async with serving(settings) as (client, _database):
        document = (await client.get("/openapi.json")).json()
        created = await client.post(
            "/authors", json={"name": "Ursula K. Le Guin"}, headers={"Origin": origin}
        )
        assert created.status_code == 201, created.text
        listed = await client.get("/authors", headers={"Origin": origin})
        missing = await client.get(created.headers["location"] + "0", headers={"Origin": origin})
    documented = document["paths"]["/authors"]["post"]["responses"]["201"]["headers"]
    components = document["components"]["headers"]
    for answer, headers in (
        (created, documented),
        (listed, document["paths"]["/authors"]["get"]["responses"]["200"]["headers"]),
        (missing, document["paths"]["/authors/{author_id}"]["get"]["responses"]["422"]["headers"]),
    ):
        for name, header in headers.items():
            header = components[header["$ref"].rpartition("/")[2]] if "$ref" in header else header
            value = answer.headers.get(name)
            if name in ("Idempotent-Replayed", "Link") and value is None:
                continue  # sent on replays, and on lists
            assert value is not None, (answer.request.url, name)
            assert conforms(value, header["schema"]), (name, value, header["schema"])
    assert listed.headers["access-control-allow-origin"] == origin


def conforms(value: str, schema: dict[str, Any]) -> bool:
    """Whether a header's value is one its documented schema allows."""
    if schema["type"] == "integer":
        return bool(schema["minimum"] <= int(value) <= schema["maximum"])
    return (
        len(value) <= schema.get("maxLength", len(value))
        and value in schema.get("enum", [value])
        and re.search(schema.get("pattern", ""), value) is not None
    )


def test_a_parameter_that_may_be_left_out_is_never_null() -> None:
    schema: dict[str, Any] = {
        "anyOf": [{"type": "string", "format": "uuid"}, {"type": "null"}],
        "default": None,
        "description": "Books of this author.",
    }
    document = {"paths": {"/books": {"get": {"parameters": [{"name": "a", "schema": schema}]}}}}

    parameters_never_null(document)

    assert schema == {"type": "string", "format": "uuid", "description": "Books of this author."}


def test_an_integer_format_follows_its_bounds() -> None:
    page: dict[str, Any] = {"type": "integer", "minimum": 1.0, "maximum": float(2**31 - 1)}
    count = {"type": "integer", "minimum": 0, "maximum": 2**53 - 1}
    year = {"type": "integer", "exclusiveMinimum": -3001, "maximum": 9999}
    unbounded: dict[str, Any] = {"type": "integer"}
    example: dict[str, Any] = {"type": "integer", "minimum": 0, "maximum": 1}
    document = {
        "components": {
            "schemas": {
                "A": {"properties": {"p": page, "c": count, "y": year, "u": unbounded}},
                "B": {"examples": [example]},
            }
        }
    }

    integer_formats(document)

    assert page == {"type": "integer", "minimum": 1, "maximum": 2**31 - 1, "format": "int32"}
    assert isinstance(page["minimum"], int)
    assert count["format"] == "int64"
    assert year["format"] == "int32"
    assert "format" not in unbounded
    assert "format" not in example  # data, not a schema


def test_a_uuid_and_a_timestamp_have_a_length() -> None:
    ids: dict[str, Any] = {"type": "string", "format": "uuid"}
    moment: dict[str, Any] = {"type": "string", "format": "date-time"}
    key: dict[str, Any] = {"type": "string", "format": "date-time", "maxLength": 64}
    document = {"components": {"schemas": {"A": {"properties": {"i": ids, "m": moment, "k": key}}}}}

    bounded_formats(document)

    assert ids["maxLength"] == 36
    assert moment["maxLength"] == MAX_TIMESTAMP_LENGTH
    assert key["maxLength"] == 64


def test_the_steps_run_once() -> None:
    app = create_app(Settings())
    runs: list[int] = []
    app.openapi = with_steps(app, lambda _document: runs.append(1))  # type: ignore[method-assign]

    assert app.openapi() is app.openapi()
    assert runs == [1]
