import uuid

from sqlmodel import Field, SQLModel

from app.pagination import PageQuery


class TagRead(SQLModel):
    id: uuid.UUID
    name: str
    book_count: int


class TagQuery(PageQuery):
    sort_fields = ("name", "book_count")
    default_sort = "name"

    q: str | None = Field(
        default=None, min_length=1, max_length=50, description="Part of the name, any case."
    )
