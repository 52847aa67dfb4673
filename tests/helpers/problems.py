"""The check every error answer of the suite goes through: RFC 9457 problem details."""

from typing import Any

import jsonschema_rs
from httpx import Response

from app.kit.errors import PROBLEM_SCHEMA

PROBLEM_FIELDS = {"type", "title", "status", "detail", "instance"}
# The bounds the OpenAPI document declares, held against every problem the suite meets.
PROBLEM = jsonschema_rs.Draft202012Validator(PROBLEM_SCHEMA)


def assert_problem(response: Response, *statuses: int, instance: str | None = None) -> Any:
    """Check that the answer is a complete problem with one of these statuses (any 4xx when
    none is named) about `instance` (the request's path unless given), and return its body."""
    assert response.status_code in (statuses or range(400, 500)), response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert PROBLEM_FIELDS <= body.keys(), body
    assert body["type"] == "about:blank"
    assert body["status"] == response.status_code
    assert body["instance"] == (response.request.url.path if instance is None else instance)
    for field in ("title", "detail"):
        assert isinstance(body[field], str), body
        assert body[field], body
    assert [error.message for error in PROBLEM.iter_errors(body)] == [], body
    return body


def same_problem(body: dict[str, Any]) -> dict[str, Any]:
    """The problem without its `request_id`, which names each answer's own request."""
    return {name: value for name, value in body.items() if name != "request_id"}


def assert_invalid(response: Response, instance: str, loc: list[Any], type_: str) -> Any:
    """Check a 422 with exactly one error, at `loc` and of `type_`; return its body."""
    body = assert_problem(response, 422, instance=instance)
    assert body["title"] == "Unprocessable Content"
    assert [{"loc": loc, "type": type_}] == [
        {"loc": error["loc"], "type": error["type"]} for error in body["errors"]
    ]
    return body


def error_locs(response: Response) -> list[list[str | int]]:
    """The `loc` of every error in a 422 answer."""
    body = assert_problem(response, 422)
    return [error["loc"] for error in body["errors"]]
