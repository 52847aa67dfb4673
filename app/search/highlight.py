"""Where the words of a search appear in the values an item shows, computed over one page's
values only: presentation, not matching, which the database has done."""

from collections.abc import Mapping, Set
from typing import Annotated

from pydantic import MISSING, BaseModel, Field, WithJsonSchema

from app.models import MAX_DESCRIPTION_LENGTH
from app.search.text import SearchQuery, spans, words

Offsets = list[tuple[int, int]]
# Offsets point into the longest value a search highlights, a book's description; a word takes
# a character at least, and another character parts it from the next.
MAX_OFFSET = MAX_DESCRIPTION_LENGTH
MAX_SPANS = (MAX_OFFSET + 1) // 2
Offset = Annotated[int, Field(ge=0, le=MAX_OFFSET)]
OFFSET_SCHEMA = {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET}
# `[start, end]`, as one array of two offsets (JSON Schema's tuple, prefixItems, is an array
# without `items` to most OpenAPI tools).
Span = Annotated[
    tuple[Offset, Offset],
    WithJsonSchema({"type": "array", "items": OFFSET_SCHEMA, "minItems": 2, "maxItems": 2}),
]
Spans = Annotated[list[Span], Field(max_length=MAX_SPANS)]


def offsets(value: str | None, query: SearchQuery, typos: Set[str] = frozenset()) -> Offsets:
    """The `(start, end)` code-point offsets, end exclusive, of every word of `value` that
    starts with a word the query looks for, or is one of the words it matched with a typo."""
    if not value:
        return []
    wanted = query.all_words
    return [
        (start, end)
        for start, end in spans(value)
        if any(
            part in typos or any(part.startswith(word) for word in wanted)
            for part in words(value[start:end])
        )
    ]


def highlights(
    fields: Mapping[str, str | None], query: SearchQuery | None, typos: Set[str] = frozenset()
) -> dict[str, Offsets]:
    """Offsets per field, for the fields in which a word was found."""
    if query is None:
        return {}
    found = {name: offsets(value, query, typos) for name, value in fields.items()}
    return {name: spans_ for name, spans_ in found.items() if spans_}


class Searched(BaseModel):
    """What a list item adds when it was found by `search`."""

    # MISSING leaves the field out unless `highlight=true` asked for it.
    highlights: dict[str, Spans] | MISSING = Field(
        default=MISSING,
        description=(
            "With `highlight=true`: per field that matched, `[start, end]` offsets in Unicode "
            "code points into the value as shown, end exclusive."
        ),
    )
