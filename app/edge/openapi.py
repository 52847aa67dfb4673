"""What the OpenAPI document says of the edge: each body's size limit (a 413 past it), and the
CORS header on answers."""

import copy

from app.config import Settings
from app.edge.install import body_limits
from app.kit.errors import problem_responses
from app.kit.openapi import Document, add_header_components, add_headers, header_ref, operations

ALLOW_ORIGIN = "Access-Control-Allow-Origin"
ALLOW_ORIGIN_HEADER = {
    "description": "Only when CORS_ORIGINS lists the request's `Origin`: that origin, or `*` "
    "when CORS_ORIGINS is `*`. Browsers then let the page read the answer.",
    "schema": {"type": "string"},
}


def describe_body_limits(document: Document, settings: Settings) -> None:
    """On every operation with a body, document that body's limit and the 413 past it."""
    limits = body_limits(settings)
    too_large = problem_responses(413)[413]
    for _method, path, operation in operations(document):
        if "requestBody" not in operation:
            continue
        limit = limits.get(path, settings.max_body_bytes)
        for media in operation["requestBody"].get("content", {}).values():
            schema = media.get("schema", {})
            if schema.get("type") == "string":
                # A text of `limit` bytes has at most `limit` characters.
                schema["maxLength"] = limit
        responses = operation.setdefault("responses", {})
        responses.setdefault("413", copy.deepcopy(too_large))
        operation["responses"] = dict(sorted(responses.items()))


def describe_cors(document: Document) -> None:
    """Document the CORS header on every answer but a 500, which is sent from outside the
    CORS middleware."""
    add_header_components(document, {ALLOW_ORIGIN: ALLOW_ORIGIN_HEADER})
    for _method, _path, operation in operations(document):
        for status, answer in operation.get("responses", {}).items():
            if status != "500":
                add_headers(answer, {ALLOW_ORIGIN: header_ref(ALLOW_ORIGIN)})
