"""What every request body shares: unknown fields rejected, strings stripped, no NUL characters."""

from typing import Any

from pydantic import ConfigDict, field_validator
from sqlmodel import SQLModel


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
