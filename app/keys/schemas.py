import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, ConfigDict, field_validator
from pydantic import Field as Limits
from sqlmodel import Field, SQLModel

from app.keys.scopes import Scope
from app.keys.secrets import KEY_LENGTH, KEY_PREFIX, SHOWN_CHARACTERS
from app.kit.pagination import Page, PageQuery
from app.kit.schemas import RequestBody, timestamp_text
from app.kit.sorting import Sorting
from app.models import ApiKey, utcnow

KeyName = Annotated[str, Limits(min_length=1, max_length=200)]
# The secret as app/keys/secrets.py makes it, and the part of it that is shown.
Secret = Annotated[
    str, Limits(pattern=f"^{KEY_PREFIX}[0-9A-Za-z]{{{KEY_LENGTH - len(KEY_PREFIX)}}}$")
]
Prefix = Annotated[
    str, Limits(pattern=f"^{KEY_PREFIX}[0-9A-Za-z]{{{SHOWN_CHARACTERS - len(KEY_PREFIX)}}}$")
]


class ApiKeyCreate(RequestBody):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"name": "catalogue importer", "scope": "write", "expires_at": None}]
        }
    )

    name: KeyName
    scope: Scope
    expires_at: AwareDatetime | None = Field(
        default=None, description="When the key stops working; in the future, with an offset."
    )

    _expires_at_text = field_validator("expires_at", mode="before")(timestamp_text)

    @field_validator("expires_at")
    @classmethod
    def in_the_future(cls, value: datetime | None) -> datetime | None:
        """A key that is born expired is a mistake, not a request."""
        if value is not None and value <= utcnow():
            raise ValueError("must be in the future")
        return value


class ApiKeyRead(SQLModel):
    id: uuid.UUID
    name: KeyName
    scope: Scope
    prefix: Prefix = Field(
        max_length=SHOWN_CHARACTERS, description="The key's first characters, to tell keys apart."
    )
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyRead):
    key: Secret = Field(
        max_length=KEY_LENGTH, description="The secret; shown this once and never again."
    )


class ApiKeyPage(Page[ApiKeyRead]):
    """A page of API keys."""


class ApiKeyQuery(PageQuery):
    sorting = Sorting(
        {"created_at": ApiKey.created_at, "name": ApiKey.name}, "created_at", ApiKey.id
    )
