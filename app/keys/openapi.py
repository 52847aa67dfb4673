"""What the OpenAPI document says of access: per operation, whether it needs a key, the
answers the access check can give it, and the rate-limit headers it puts on answers.

Derived from the same `needed_scope` the check itself runs, for the server's own settings,
so the document cannot promise a key where none is asked for, or the other way round.
"""

import copy
from typing import Any

from app.config import Settings
from app.keys.guard import EXEMPT_PATHS, needed_scope
from app.keys.limits import WINDOW_SECONDS, Verdict
from app.kit.errors import problem_responses
from app.kit.openapi import add_header_components, add_headers, header_ref

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


def limits_in_force(settings: Settings) -> dict[str, int]:
    """Each rate limit that can refuse a request, by its policy name, and its requests per
    window (app/keys/guard.py counts them)."""
    limits = {}
    if settings.rate_limit_per_minute > 0:
        limits["requests"] = settings.rate_limit_per_minute
    if settings.auth_mode == "keys" and settings.auth_failures_per_minute > 0:
        limits["auth-failures"] = settings.auth_failures_per_minute
    return limits


def rate_limit_headers(limits: dict[str, int]) -> dict[str, dict[str, Any]]:
    """The `RateLimit` and `RateLimit-Policy` headers as these limits write them (Verdict)."""
    policies = [Verdict(name, True, amount, 0, WINDOW_SECONDS) for name, amount in limits.items()]
    # The longest `RateLimit` has every request of the largest limit remaining.
    longest = [Verdict(v.policy, True, v.limit, v.limit, WINDOW_SECONDS) for v in policies]
    names = "|".join(limits)
    return {
        "RateLimit": {
            "description": "What is left of the limit this request counts against: `r` requests "
            "for the next `t` seconds (IETF httpapi-ratelimit-headers).",
            "schema": {
                "type": "string",
                "maxLength": max(len(v.headers()["RateLimit"]) for v in longest),
                "pattern": f'^"({names})";r=[0-9]+;t=[0-9]+$',
            },
        },
        "RateLimit-Policy": {
            "description": "The limit: `q` requests per `w` seconds, for each client (its API "
            "key, or its address without one); `auth-failures` counts failed authentications "
            "per address.",
            "schema": {
                "type": "string",
                "enum": [v.headers()["RateLimit-Policy"] for v in policies],
            },
        },
    }


def describe_limits(document: dict[str, Any], settings: Settings) -> None:
    """Document the rate-limit headers on the answers that carry them: every answer of a
    limited operation but a 500 (sent from outside the access check) while the request limit
    is on, else the 429 of too many failed authentications."""
    limits = limits_in_force(settings)
    if not limits:
        return
    add_header_components(document, rate_limit_headers(limits))
    shown = {name: header_ref(name) for name in ("RateLimit", "RateLimit-Policy")}
    for path, item in document["paths"].items():
        if path.startswith(EXEMPT_PATHS):
            continue
        for operation in item.values():
            for status, answer in operation.get("responses", {}).items():
                if status == "429" or ("requests" in limits and status != "500"):
                    add_headers(answer, shown)


def describe_access(document: dict[str, Any], settings: Settings) -> None:
    """Set each operation's security requirement, access answers and rate-limit headers in
    the document."""
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
                responses[str(status)] = copy.deepcopy(ACCESS_ANSWERS[status])
            operation["responses"] = dict(sorted(responses.items()))
    describe_limits(document, settings)
