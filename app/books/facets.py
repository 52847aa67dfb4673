"""Facets of a book list: the `facets` and `facet_size` parameters, and `meta.facets`, which
counts, per facet asked for, the matching books that have each value."""

import uuid
from typing import Any, ClassVar, Literal, get_args

from pydantic import MISSING, BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from app.kit.pagination import PageMeta
from app.kit.quoting import quoted
from app.kit.schemas import Count
from app.models import MAX_YEAR, MIN_YEAR, AuthorName

FacetName = Literal["tags", "authors", "publisher", "language", "series", "decade"]
FACET_NAMES: tuple[FacetName, ...] = get_args(FacetName)
MAX_FACET_SIZE = 100
MAX_TEXT_VALUE = 200  # the longest tag, publisher, language or series
# Every facet, each once, with the commas between them.
MAX_FACETS_LENGTH = sum(len(name) + 1 for name in FACET_NAMES)


class FacetQuery(BaseModel):
    """The facet parameters of a list query."""

    beside_rows: ClassVar[frozenset[str]] = frozenset({"facets", "facet_size"})

    facets: str | None = Field(
        default=None,
        max_length=MAX_FACETS_LENGTH,
        description=(
            "Comma-separated facets to count over every matching book (not only the page): "
            "`meta.facets` then holds, per facet, the `facet_size` values with the most books."
        ),
        json_schema_extra={
            "type": "array",
            "items": {"type": "string", "enum": list(FACET_NAMES)},
            "maxItems": len(FACET_NAMES),
            "anyOf": None,
        },
    )
    facet_size: int = Field(
        default=10, ge=1, le=MAX_FACET_SIZE, description="How many values each facet shows."
    )

    @field_validator("facets")
    @classmethod
    def known_facets(cls, value: str | None) -> str | None:
        if value is not None:
            facet_names(value)
        return value

    @property
    def facet_names(self) -> list[FacetName]:
        """The facets asked for, in the order asked, each once; empty without `facets`."""
        return [] if self.facets is None else facet_names(self.facets)


def facet_names(text: str) -> list[FacetName]:
    """The facets a `facets` value names; a 422 `unknown_facet` naming the allowed ones."""
    names: list[FacetName] = []
    for item in text.split(","):
        name = next((known for known in FACET_NAMES if known == item.strip()), None)
        if name is None:
            allowed = ", ".join(FACET_NAMES)
            message = f"unknown facet {quoted(item.strip())}; allowed: {allowed}"
            raise PydanticCustomError("unknown_facet", message)
        if name not in names:
            names.append(name)
    return names


class TextCount(BaseModel):
    """A value and how many matching books have it."""

    value: str = Field(max_length=MAX_TEXT_VALUE)
    count: Count


class DecadeCount(BaseModel):
    """A decade and how many matching books were published in it."""

    value: int = Field(
        ge=MIN_YEAR,
        le=MAX_YEAR,
        description="The decade's first year, floor(year / 10) × 10: 1990 for 1990 to 1999, "
        "-730 for -730 to -721.",
    )
    count: Count


class FacetAuthor(BaseModel):
    id: uuid.UUID
    name: AuthorName


class AuthorCount(BaseModel):
    """An author and how many matching books they are one of the authors of."""

    value: FacetAuthor
    count: Count


def counts(description: str) -> Any:
    # MISSING leaves out the facets that were not asked for.
    return Field(default=MISSING, max_length=MAX_FACET_SIZE, description=description)


class BookFacets(BaseModel):
    """Per facet asked for, its values with the most matching books, most first, ties by
    value; books without a value are not counted."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"tags": [{"value": "sf", "count": 120}]}]}
    )

    tags: list[TextCount] | MISSING = counts("Tag names.")
    authors: list[AuthorCount] | MISSING = counts("Authors; ties by name, then id.")
    publisher: list[TextCount] | MISSING = counts("Publishers, matched in any case.")
    language: list[TextCount] | MISSING = counts("Language tags.")
    series: list[TextCount] | MISSING = counts("Series, matched in any case.")
    decade: list[DecadeCount] | MISSING = counts("Decades of `published_year`.")


class BookPageMeta(PageMeta):
    facets: BookFacets | MISSING = Field(
        default=MISSING, description="Only when the request sent `facets`: the counts."
    )
