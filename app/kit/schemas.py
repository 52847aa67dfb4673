"""What every request shares: unknown fields rejected, strings stripped, no NUL characters,
and a query string that is UTF-8; and the bounds of the numbers every answer shows."""

from typing import Annotated, Any
from urllib.parse import unquote_to_bytes

from fastapi import Request
from pydantic import ConfigDict, Field, ValidationError, field_validator
from pydantic_core import InitErrorDetails, PydanticCustomError
from sqlmodel import SQLModel

from app.kit.errors import Unprocessable

# The largest integer every JSON reader holds exactly (JavaScript's Number.MAX_SAFE_INTEGER,
# and the largest a float, which the OpenAPI document's bounds pass through, keeps whole); no
# count of rows, version or generated id comes near it.
MAX_INTEGER = 2**53 - 1
# How many rows there are of something; `book_count`, `total`, an import's counters.
Count = Annotated[int, Field(ge=0, le=MAX_INTEGER)]
# A row's version starts at 1 and grows by one with every update.
Version = Annotated[int, Field(ge=1, le=MAX_INTEGER)]
# A timestamp as text: RFC 3339 with nanoseconds and an offset, 2030-01-01T00:00:00.123456789+05:30,
# is the longest spelling read; Folio writes UTC with at most microseconds.
MAX_TIMESTAMP_LENGTH = 35


def no_nul(value: Any) -> Any:
    """Refuse NUL characters, which PostgreSQL cannot store, so both databases agree."""
    values = value if isinstance(value, list) else [value]
    if any(isinstance(item, str) and "\x00" in item for item in values):
        raise ValueError("must not contain NUL characters")
    return value


class RequestBody(SQLModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)  # type: ignore[assignment]

    _no_nul = field_validator("*")(no_nul)


def timestamp_text(value: Any) -> Any:
    """Refuse a timestamp spelled longer than any RFC 3339 one with nanoseconds and an offset
    (the parser would read any number of fraction digits)."""
    if isinstance(value, str) and len(value) > MAX_TIMESTAMP_LENGTH:
        raise ValueError(f"a timestamp has at most {MAX_TIMESTAMP_LENGTH} characters")
    return value


def required(value: Any) -> Any:
    """Refuse an explicit null for a field that an update may omit but not clear."""
    if value is None:
        raise ValueError("may be omitted but not null")
    return value


async def utf8_query_string(request: Request) -> None:
    """Refuse a query string whose escapes are not UTF-8, instead of reading them as U+FFFD.

    Async only so that FastAPI runs it on the event loop, not in a worker thread.
    """
    try:
        unquote_to_bytes(request.scope["query_string"]).decode("utf-8")
    except UnicodeDecodeError:
        raise Unprocessable.at(
            ["query"], "The query string is not valid UTF-8.", "unicode_error"
        ) from None


def field_error(
    loc: tuple[str | int, ...], type_: str, message: str, value: Any
) -> ValidationError:
    """A validation error at `loc`, for a check of several fields together: raised from a model
    validator, it answers 422 at that field rather than at the whole model."""
    error = PydanticCustomError(type_, message)
    return ValidationError.from_exception_data(
        "Request", [InitErrorDetails(type=error, loc=loc, input=value)]
    )
