"""Where the words of a search appear in the values an item shows, computed over one page's
values only: presentation, not matching, which the database has done."""

from collections.abc import Mapping

from pydantic import MISSING, BaseModel, Field

from app.search.text import SearchQuery, spans, words

Offsets = list[tuple[int, int]]


def offsets(value: str | None, query: SearchQuery) -> Offsets:
    """The `(start, end)` code-point offsets, end exclusive, of every word of `value` that
    starts with a word the query looks for."""
    if not value:
        return []
    wanted = query.all_words
    return [
        (start, end)
        for start, end in spans(value)
        if any(part.startswith(word) for part in words(value[start:end]) for word in wanted)
    ]


def highlights(fields: Mapping[str, str | None], query: SearchQuery | None) -> dict[str, Offsets]:
    """Offsets per field, for the fields in which a word was found."""
    if query is None:
        return {}
    found = {name: offsets(value, query) for name, value in fields.items()}
    return {name: spans_ for name, spans_ in found.items() if spans_}


class Searched(BaseModel):
    """What a list item adds when it was found by `search`."""

    # MISSING leaves the field out unless `highlight=true` asked for it.
    highlights: dict[str, Offsets] | MISSING = Field(
        default=MISSING,
        description=(
            "With `highlight=true`: per field that matched, `[start, end]` offsets in Unicode "
            "code points into the value as shown, end exclusive."
        ),
    )
