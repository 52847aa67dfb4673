"""What the OpenAPI document says of access: per operation, whether it needs a key, and the
answers the access check can give it.

Derived from the same `needed_scope` the check itself runs, for the server's own settings,
so the document cannot promise a key where none is asked for, or the other way round.
"""

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from app.config import Settings
from app.keys.guard import EXEMPT_PATHS, needed_scope
from app.kit.errors import problem_responses

BEARER_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "description": "An API key, `Authorization: Bearer folio_...`. Changing data needs "
    "`write`, managing keys `admin`; reads need none unless the server requires `read`.",
}
ACCESS_ANSWERS = problem_responses(401, 403, 429)
NEEDS_KEY: list[dict[str, list[str]]] = [{"bearer": []}]
# An empty requirement first: no key is needed, and one may be sent (it is checked then).
KEY_OPTIONAL: list[dict[str, list[str]]] = [{}, {"bearer": []}]


def access_answers(method: str, path: str, settings: Settings) -> tuple[list[Any] | None, set[int]]:
    """The security requirement of an operation (None: no key is looked at) and the
    statuses the access check may answer it with."""
    if path.startswith(EXEMPT_PATHS):
        return None, set()
    limited = settings.rate_limit_per_minute > 0
    if settings.auth_mode == "open":
        return None, {429} if limited else set()
    limited = limited or settings.auth_failures_per_minute > 0
    # A key that is sent is looked up, and the database may fail to answer.
    statuses = {401, 429, 503} if limited else {401, 503}
    needed = needed_scope(method, path, settings)
    if needed is None:
        return KEY_OPTIONAL, statuses
    # Every key has `read`, so only a higher scope can be lacking.
    return NEEDS_KEY, statuses | ({403} if needed != "read" else set())


def describe_access(document: dict[str, Any], settings: Settings) -> None:
    """Set each operation's security requirement and access answers in the document."""
    schemes = document.setdefault("components", {}).setdefault("securitySchemes", {})
    schemes["bearer"] = BEARER_SCHEME
    for path, item in document["paths"].items():
        for method, operation in item.items():
            security, statuses = access_answers(method.upper(), path, settings)
            operation.pop("security", None)
            if security is not None:
                operation["security"] = security
            responses = operation.setdefault("responses", {})
            for status in statuses:
                responses[str(status)] = ACCESS_ANSWERS[status]
            operation["responses"] = dict(sorted(responses.items()))


def with_access(app: FastAPI, settings: Settings) -> Callable[[], dict[str, Any]]:
    """Wrap `app.openapi` so the document says what access each operation needs."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        document = build()
        describe_access(document, settings)
        return document

    return openapi
