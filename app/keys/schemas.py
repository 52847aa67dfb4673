import uuid
from datetime import datetime

from pydantic import AwareDatetime, ConfigDict, field_validator
from sqlmodel import Field, SQLModel

from app.keys.scopes import Scope
from app.kit.pagination import Page, PageQuery
from app.kit.schemas import RequestBody
from app.kit.sorting import Sorting
from app.models import ApiKey, utcnow


class ApiKeyCreate(RequestBody):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"name": "catalogue importer", "scope": "write", "expires_at": None}]
        }
    )

    name: str = Field(min_length=1, max_length=200)
    scope: Scope
    expires_at: AwareDatetime | None = Field(
        default=None, description="When the key stops working; in the future, with an offset."
    )

    @field_validator("expires_at")
    @classmethod
    def in_the_future(cls, value: datetime | None) -> datetime | None:
        """A key that is born expired is a mistake, not a request."""
        if value is not None and value <= utcnow():
            raise ValueError("must be in the future")
        return value


class ApiKeyRead(SQLModel):
    id: uuid.UUID
    name: str
    scope: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyRead):
    key: str = Field(description="The secret; shown this once and never again.")


class ApiKeyPage(Page[ApiKeyRead]):
    """A page of API keys."""


class ApiKeyQuery(PageQuery):
    sorting = Sorting(
        {"created_at": ApiKey.created_at, "name": ApiKey.name}, "created_at", ApiKey.id
    )
