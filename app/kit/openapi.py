"""What the OpenAPI document says of every operation alike, written once after FastAPI has
built it, by steps that `with_steps` runs in order.

FastAPI writes each schema as pydantic gives it. The generic steps here say what pydantic
cannot, in the same way everywhere:
- `parameters_never_null`: a query string, a path or a header has no null, so the
  `anyOf: [X, {type: null}]` pydantic writes for an optional parameter is X;
- `bounded_formats`: a UUID has 36 characters, and a timestamp at most MAX_TIMESTAMP_LENGTH;
- `integer_formats`: an integer is `int32` when its declared bounds fit 32 bits, else `int64`.
Headers that many answers carry are components, which answers refer to (`header_ref`).
"""

import copy
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from fastapi import FastAPI

from app.kit.schemas import MAX_TIMESTAMP_LENGTH

Document = dict[str, Any]
Step = Callable[[Document], None]

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# Keys whose values are data, not schemas: their contents are never rewritten.
DATA_KEYS = frozenset({"example", "examples", "default", "enum", "const"})
UUID_LENGTH = 36
FORMAT_LENGTHS = {"uuid": UUID_LENGTH, "date-time": MAX_TIMESTAMP_LENGTH}
INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)


def with_steps(app: FastAPI, *steps: Step) -> Callable[[], Document]:
    """Wrap `app.openapi` so that the document it builds goes through `steps`, once."""
    build = app.openapi
    finished: Document | None = None

    def openapi() -> Document:
        nonlocal finished
        if finished is None:
            document = build()
            for step in steps:
                step(document)
            finished = document
        return finished

    return openapi


def operations(document: Document) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Each operation of the document, with its method (lower-case) and path."""
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield method, path, operation


def schemas(node: Any) -> Iterator[dict[str, Any]]:
    """Every object under `node` that can be a schema: everything but example and other data."""
    if isinstance(node, dict):
        yield node
        for key, value in node.items():
            if key not in DATA_KEYS:
                yield from schemas(value)
    elif isinstance(node, list):
        for value in node:
            yield from schemas(value)


def header_ref(name: str) -> dict[str, str]:
    """A reference to the header component `name`."""
    return {"$ref": f"#/components/headers/{name}"}


def add_header_components(document: Document, headers: Mapping[str, dict[str, Any]]) -> None:
    """Put header definitions among the document's components, for `header_ref` to name."""
    components = document.setdefault("components", {}).setdefault("headers", {})
    components.update(copy.deepcopy(dict(headers)))


def add_headers(answer: dict[str, Any], headers: Mapping[str, Any]) -> None:
    """Document `headers` on one answer, beside those it has (whose dict may be shared)."""
    answer["headers"] = {**answer.get("headers", {}), **headers}


def parameters_never_null(document: Document) -> None:
    """Write an optional parameter's schema as the one type it has when it is sent."""
    for _method, _path, operation in operations(document):
        for parameter in operation.get("parameters", []):
            schema = parameter.get("schema", {})
            choices = schema.get("anyOf", [])
            sent = [choice for choice in choices if choice != {"type": "null"}]
            if len(choices) == 2 and len(sent) == 1:
                del schema["anyOf"]
                if "default" in schema and schema["default"] is None:
                    del schema["default"]
                schema.update({**sent[0], **schema})


def bounded_formats(document: Document) -> None:
    """Give strings of a fixed-length format that length as their maximum."""
    for schema in schemas(document):
        if schema.get("type") == "string" and schema.get("format") in FORMAT_LENGTHS:
            schema.setdefault("maxLength", FORMAT_LENGTHS[schema["format"]])


def bound(schema: dict[str, Any], inclusive: str, exclusive: str, step: int) -> int | None:
    """An integer schema's lowest (step 1) or highest (step -1) value, if it declares one."""
    if inclusive in schema:
        return int(schema[inclusive])
    if exclusive in schema:
        return int(schema[exclusive]) + step
    return None


def integer_formats(document: Document) -> None:
    """Name each bounded integer's format, `int32` or `int64`, after its bounds.

    FastAPI's own model of a schema holds bounds as floats (`1.0`); an integer's are written
    back as integers.
    """
    for schema in schemas(document):
        if schema.get("type") != "integer":
            continue
        for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            if isinstance(schema.get(key), float) and schema[key].is_integer():
                schema[key] = int(schema[key])
        if "format" in schema:
            continue
        lowest = bound(schema, "minimum", "exclusiveMinimum", 1)
        highest = bound(schema, "maximum", "exclusiveMaximum", -1)
        if lowest is None or highest is None:
            continue
        for name, (smallest, largest) in (("int32", INT32), ("int64", INT64)):
            if smallest <= lowest and highest <= largest:
                schema["format"] = name
                break


SCHEMA_STEPS: tuple[Step, ...] = (parameters_never_null, bounded_formats, integer_formats)
