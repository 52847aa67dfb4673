"""Folio's errors and their RFC 9457 problem+json answers, all mapped here.

    FolioError                 any error with an HTTP answer
     ├── Unauthorized          401 no usable API key where one is needed (or one sent)
     ├── Forbidden             403 a usable API key without the scope the request needs
     ├── NotFound              404 no such resource
     ├── Conflict              409 a uniqueness conflict, or a delete that would orphan rows
     ├── PreconditionFailed    412 an If-Match that no longer matches
     ├── ContentTooLarge       413 a body over its endpoint's size limit
     ├── UnsupportedMediaType  415 a body in a format the endpoint does not read
     ├── Unprocessable         422 a request that is well-formed but cannot be applied
     ├── TooManyRequests       429 over a rate limit; try again after Retry-After
     └── Unavailable           503 the database cannot serve now (faults.py names why); retry

Integrity errors from the database are turned into these by constraint name
(`error_for_constraint`), so no handler checks before it writes.
"""

import logging
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException
from starlette.routing import Match

from app.db.driver_errors import failing_statement, is_postgres_rolled_back, violated_constraint
from app.db.faults import classify, driver_message, report
from app.kit.quoting import MESSAGE_CHARACTERS, QUOTED_CHARACTERS, shortened
from app.kit.rollback import mark_rolled_back
from app.observe.request_id import HEADER as REQUEST_ID_HEADER
from app.observe.request_id import MAX_LENGTH as MAX_REQUEST_ID_LENGTH
from app.observe.request_id import PATTERN as REQUEST_ID_PATTERN
from app.observe.request_id import current_request_id

logger = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
RETRY_AFTER_SECONDS = "1"
HTTP_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
# A problem's bounds. A title is an HTTP reason phrase or one like it; `errors` lists the first
# MAX_ERRORS validation errors (a body of unknown fields has one per field), each `loc` at most
# MAX_LOC_PARTS deep (Folio's bodies nest far less).
TITLE_CHARACTERS = 100
MAX_ERRORS = 100
MAX_LOC_PARTS = 10
MAX_ERROR_TYPE_LENGTH = 100


class FolioError(Exception):
    """An error that has an HTTP answer."""

    status = 500
    title = "Internal Server Error"

    def __init__(
        self,
        detail: str,
        *,
        errors: Sequence[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.headers = headers


class Unauthorized(FolioError):
    status = 401
    title = "Unauthorized"


class Forbidden(FolioError):
    status = 403
    title = "Forbidden"


class NotFound(FolioError):
    status = 404
    title = "Not Found"


class Conflict(FolioError):
    status = 409
    title = "Conflict"


class PreconditionFailed(FolioError):
    status = 412
    title = "Precondition Failed"


class ContentTooLarge(FolioError):
    status = 413
    title = "Content Too Large"


class UnsupportedMediaType(FolioError):
    status = 415
    title = "Unsupported Media Type"


class Unprocessable(FolioError):
    status = 422
    title = "Unprocessable Content"

    @classmethod
    def at(cls, loc: Sequence[str | int], msg: str, type_: str) -> "Unprocessable":
        """An error about one field, shaped like a validation error."""
        return cls(msg, errors=[{"loc": list(loc), "msg": msg, "type": type_}])


class TooManyRequests(FolioError):
    status = 429
    title = "Too Many Requests"


class Unavailable(FolioError):
    status = 503
    title = "Service Unavailable"


# Constraint name -> the error its violation means. Names follow models/base.py.
CONSTRAINT_ERRORS: dict[str, FolioError] = {
    "uq_book_isbn": Conflict("A book with this ISBN already exists."),
    "uq_tag_name": Conflict("A tag with this name already exists."),
    "fk_book_author_author_id_author": Unprocessable.at(
        ["body", "author_ids"], "No author has this id.", "missing_reference"
    ),
}
# Deleting the referenced row breaks the same constraint for another reason.
DELETE_CONSTRAINT_ERRORS: dict[str, FolioError] = {
    "fk_book_author_author_id_author": Conflict(
        "The author still has books; delete them first or pass cascade=true."
    ),
}


def error_for_constraint(name: str | None, *, deleting: bool = False) -> FolioError | None:
    """Return the error that a violation of the named constraint stands for."""
    if name is None:
        return None
    if deleting and name in DELETE_CONSTRAINT_ERRORS:
        return DELETE_CONSTRAINT_ERRORS[name]
    return CONSTRAINT_ERRORS.get(name)


def problem(
    request: Request,
    status: int,
    title: str,
    detail: str,
    *,
    errors: Sequence[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """Build an RFC 9457 problem details answer."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": shortened(title, TITLE_CHARACTERS),
        "status": status,
        "detail": shortened(detail, MESSAGE_CHARACTERS),
        # The path as received: `request.url` drops tabs and newlines, and re-escapes a "?".
        "instance": request.scope["path"],
    }
    if errors is not None:
        body["errors"] = errors
    if (request_id := current_request_id()) is not None:
        body["request_id"] = request_id
        # A 500 is sent from outside the request middleware, which would otherwise add this.
        headers = {**(headers or {}), REQUEST_ID_HEADER: request_id}
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    """Keep what a client needs from the first MAX_ERRORS validation errors, and nothing it
    sent.

    A `loc` may hold a name the client made up (an unknown query parameter or body field),
    so its names are shortened as any quoted input is.
    """
    errors = exc.errors()[:MAX_ERRORS]
    return [
        {
            "loc": [
                shortened(part) if isinstance(part, str) else part
                for part in error["loc"][:MAX_LOC_PARTS]
            ],
            "msg": shortened(error["msg"], MESSAGE_CHARACTERS),
            "type": shortened(error["type"], MAX_ERROR_TYPE_LENGTH),
        }
        for error in jsonable_encoder(errors, exclude={"input", "ctx", "url"})
    ]


async def on_folio_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, FolioError)
    headers = {"Retry-After": RETRY_AFTER_SECONDS} if exc.status == 503 else None
    if exc.headers:
        headers = {**(headers or {}), **exc.headers}
    return problem(request, exc.status, exc.title, exc.detail, errors=exc.errors, headers=headers)


async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = validation_errors(exc)
    return problem(request, 422, Unprocessable.title, "The request is not valid.", errors=errors)


async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 400:
        # FastAPI's answer to a body it cannot parse at all (JSON nested past the parser's
        # limit, say) is an invalid body like any other.
        error = Unprocessable.at(["body"], "The body could not be parsed.", "json_invalid")
        return await on_folio_error(request, error)
    detail = exc.detail if isinstance(exc.detail, str) else "The request failed."
    title = HTTPStatus(exc.status_code).phrase
    headers = dict(exc.headers) if exc.headers else None
    if exc.status_code == 405:
        # Starlette names only the first route that matched the path; RFC 9110 wants all.
        headers = {"Allow": ", ".join(allowed_methods(request))}
    return problem(request, exc.status_code, title, detail, headers=headers)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at the request's path."""
    return [
        method
        for method in HTTP_METHODS
        if any(
            # HEAD is answered wherever GET is (app/responses.py).
            route.matches({**request.scope, "method": "GET" if method == "HEAD" else method})[0]
            == Match.FULL
            for route in request.app.routes
        )
    ]


async def on_stale_data(request: Request, _exc: Exception) -> JSONResponse:
    # Another transaction changed or removed the row between our read and our write.
    return await on_folio_error(
        request, PreconditionFailed("The resource was changed by another request; retry.")
    )


async def on_database_error(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, IntegrityError):
        deleting = failing_statement(exc).lstrip().upper().startswith("DELETE")
        error = error_for_constraint(violated_constraint(exc), deleting=deleting)
        if error is None:
            logger.error("integrity error with no mapping", exc_info=exc)
            error = Conflict("The change conflicts with stored data.")
        return await on_folio_error(request, error)
    fault = classify(exc)
    if fault is None:
        return await on_unexpected_error(request, exc)
    if is_postgres_rolled_back(exc) and mark_rolled_back(request):  # see app/edge/retry.py
        logger.info("the database rolled a write back; running it again: %s", driver_message(exc))
    else:
        report(fault, exc)
    return await on_folio_error(request, Unavailable(fault.detail))


async def on_unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(request, 500, "Internal Server Error", "An unexpected error occurred.")


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error with problem+json."""
    app.add_exception_handler(FolioError, on_folio_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(StaleDataError, on_stale_data)
    app.add_exception_handler(DBAPIError, on_database_error)
    app.add_exception_handler(PoolTimeoutError, on_database_error)
    app.add_exception_handler(OSError, on_database_error)
    app.add_exception_handler(Exception, on_unexpected_error)


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail", "instance"],
    "properties": {
        "type": {
            "type": "string",
            "enum": ["about:blank"],
            "description": "Always `about:blank`: `status` and `title` say what the problem is.",
        },
        "title": {"type": "string", "maxLength": TITLE_CHARACTERS},
        "status": {"type": "integer", "format": "int32", "minimum": 400, "maximum": 599},
        "detail": {"type": "string", "maxLength": MESSAGE_CHARACTERS},
        "instance": {"type": "string", "description": "The request's path, as received."},
        "request_id": {
            "type": "string",
            "maxLength": MAX_REQUEST_ID_LENGTH,
            "pattern": f"^{REQUEST_ID_PATTERN}$",
            "description": "The request's `X-Request-ID`.",
        },
        "errors": {
            "type": "array",
            "maxItems": MAX_ERRORS,
            "description": f"With a 422: the first {MAX_ERRORS} things wrong with the request.",
            "items": {
                "type": "object",
                "required": ["loc", "msg", "type"],
                "properties": {
                    "loc": {
                        "type": "array",
                        "maxItems": MAX_LOC_PARTS,
                        "description": "Where: `body`, `query`, `path` or `header`, then names "
                        "and list indexes.",
                        "items": {
                            "anyOf": [
                                {"type": "string", "maxLength": QUOTED_CHARACTERS},
                                {
                                    "type": "integer",
                                    "format": "int32",
                                    "minimum": 0,
                                    "maximum": 2**31 - 1,
                                },
                            ]
                        },
                    },
                    "msg": {"type": "string", "maxLength": MESSAGE_CHARACTERS},
                    "type": {"type": "string", "maxLength": MAX_ERROR_TYPE_LENGTH},
                },
            },
        },
    },
}
STATUS_DESCRIPTIONS = {
    401: "No usable API key where one is needed, or an unusable one sent; the same in every case.",
    403: "The API key lacks the scope this request needs.",
    413: "The body is over this endpoint's size limit.",
    415: "The body's content type is not one this endpoint reads.",
    429: "Over a rate limit; retry after `Retry-After` seconds.",
    404: "No such resource.",
    409: "The request conflicts with stored data.",
    412: "If-Match does not match the current ETag; nothing was changed.",
    422: "The request is not valid; `errors` says where.",
    500: "An unexpected error; the body tells nothing of its cause.",
    503: "The database cannot serve now (busy, unreachable, read-only, disk full, not migrated);"
    " retry after `Retry-After` seconds.",
}


# The OpenAPI document holds PROBLEM_SCHEMA once, under this name (app/docs.py puts it there).
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
# Every wait Folio asks for is within a minute: 1 second for the database, the rest of a rate
# limit's one-minute window, a few seconds for an import or an event stream.
MAX_RETRY_AFTER_SECONDS = 60
RETRY_AFTER = {
    "description": "Seconds to wait before trying again.",
    "schema": {
        "type": "integer",
        "format": "int32",
        "minimum": 1,
        "maximum": MAX_RETRY_AFTER_SECONDS,
    },
}
STATUS_HEADERS: dict[int, dict[str, Any]] = {
    401: {
        "WWW-Authenticate": {
            "description": "How to authenticate: `Bearer`, an API key.",
            "schema": {"type": "string", "enum": ["Bearer"]},
        }
    },
    429: {"Retry-After": RETRY_AFTER},
    503: {"Retry-After": RETRY_AFTER},
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Describe error answers for OpenAPI; 422, 500 and 503 can come from any database route."""
    return {
        status: {
            "description": STATUS_DESCRIPTIONS[status],
            "content": {PROBLEM_JSON: {"schema": PROBLEM_REF}},
            **({"headers": STATUS_HEADERS[status]} if status in STATUS_HEADERS else {}),
        }
        for status in sorted({*statuses, 422, 500, 503})
    }


def every_route_problem_responses() -> dict[int | str, dict[str, Any]]:
    """The error answers of any route at all: a query string that is not UTF-8, a bug. Those
    of the access check depend on the route and the settings (app/keys/openapi.py)."""
    every = problem_responses()
    return {status: every[status] for status in (422, 500)}
