"""The export query: every filter and sort of `GET /books`, a format, and no paging."""

from typing import Literal

from pydantic import Field, model_validator

from app.books.schemas import BookQuery

ExportFormat = Literal["ndjson", "csv"]
PAGING = ("page", "per_page", "cursor", "count")


class ExportQuery(BookQuery):
    format: ExportFormat = Field(default="ndjson", description="`ndjson` or `csv`.")

    @model_validator(mode="after")
    def not_paged(self) -> "ExportQuery":
        sent = sorted(set(PAGING) & self.model_fields_set)
        if sent:
            raise ValueError(f"an export is not paged: leave out {', '.join(sent)}")
        return self

    def filters(self) -> dict[str, object]:
        """The filters and sort, as a `BookQuery` takes them."""
        return self.model_dump(exclude={"format", *PAGING}, exclude_none=True)
