"""The export query: the filters and sort of `GET /books`, with their rules, a format, no paging."""

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.books.schemas import BookQuery, IsbnInput, isbn_or_none
from app.kit.pagination import MAX_PER_PAGE
from app.kit.schemas import no_nul
from app.models import BookTitle, TagName

ExportFormat = Literal["ndjson", "csv"]
# Each filter is declared with BookQuery's own field (limits, description), so the two agree.
FILTER = BookQuery.model_fields


class ExportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    format: ExportFormat = Field(default="ndjson", description="`ndjson` or `csv`.")
    sort: Annotated[str | None, FILTER["sort"]] = None
    author_id: Annotated[uuid.UUID | None, FILTER["author_id"]] = None
    tag: Annotated[TagName | None, FILTER["tag"]] = None
    isbn: Annotated[IsbnInput | None, FILTER["isbn"]] = None
    year_from: Annotated[int | None, FILTER["year_from"]] = None
    year_to: Annotated[int | None, FILTER["year_to"]] = None
    q: Annotated[BookTitle | None, FILTER["q"]] = None

    _no_nul = field_validator("*")(no_nul)
    _isbn = field_validator("isbn")(isbn_or_none)

    @field_validator("sort")
    @classmethod
    def known_sort_fields(cls, value: str | None) -> str | None:
        return BookQuery.known_sort_fields(value)

    def filters(self) -> dict[str, object]:
        """The filters and sort, as a `BookQuery` takes them."""
        return self.model_dump(exclude={"format"}, exclude_none=True)

    def page(self, cursor: str, size: int = MAX_PER_PAGE) -> BookQuery:
        """The `GET /books` query of the uncounted page of `size` books after `cursor`."""
        return BookQuery.model_validate(
            {**self.filters(), "cursor": cursor, "per_page": size, "count": "none"}
        )
