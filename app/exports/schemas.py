"""The export query: the filters and sort of `GET /books`, with their rules, a format, no paging."""

from typing import Annotated

from pydantic import Field, field_validator

from app.books.schemas import BookFilters, BookQuery
from app.kit.pagination import MAX_PER_PAGE
from app.models.import_job import FormatName


class ExportQuery(BookFilters):
    """Every filter of `GET /books` (they are BookQuery's own fields), its sort and a format."""

    format: FormatName = Field(default="ndjson", description="`ndjson` or `csv`.")
    sort: Annotated[str | None, BookQuery.model_fields["sort"]] = None

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
