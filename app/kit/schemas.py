"""What every request shares: unknown fields rejected, strings stripped, no NUL characters,
and a query string that is UTF-8."""

from typing import Any
from urllib.parse import unquote_to_bytes

from fastapi import Request
from pydantic import ConfigDict, ValidationError, field_validator
from pydantic_core import InitErrorDetails, PydanticCustomError
from sqlmodel import SQLModel

from app.kit.errors import Unprocessable


def no_nul(value: Any) -> Any:
    """Refuse NUL characters, which PostgreSQL cannot store, so both databases agree."""
    values = value if isinstance(value, list) else [value]
    if any(isinstance(item, str) and "\x00" in item for item in values):
        raise ValueError("must not contain NUL characters")
    return value


class RequestBody(SQLModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)  # type: ignore[assignment]

    _no_nul = field_validator("*")(no_nul)


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
