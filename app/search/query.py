"""The `search`, `highlight` and `sort=relevance` query parameters of a searchable list."""

from typing import Any

from pydantic import Field, field_validator

from app.errors import Unprocessable
from app.pagination import PageQuery
from app.search.text import MAX_SEARCH_LENGTH, SearchQuery, parse

RELEVANCE = "relevance"
NO_WORD = "must contain a word to look for: letters or digits, not only exclusions"


class SearchableQuery(PageQuery):
    """A list query that also takes ranked full-text `search`; its default sort is then
    `relevance`."""

    search: str | None = Field(
        default=None,
        max_length=MAX_SEARCH_LENGTH,
        description=(
            "Words to find, ranked best first: every word must match the start of a word; "
            '"quoted words" must match in a row; -word leaves out items with that word. '
            "Case and accents are ignored."
        ),
    )
    highlight: bool = Field(
        default=False,
        description=(
            "Add `highlights` to each item: per matched field, `[start, end)` offsets in "
            "code points of the words that matched."
        ),
    )

    @field_validator("search")
    @classmethod
    def has_a_word(cls, value: str | None) -> str | None:
        if value is not None and not parse(value).terms:
            raise ValueError(NO_WORD)
        return value

    @property
    def parsed(self) -> SearchQuery | None:
        """The search text as words, phrases and exclusions; None without `search`."""
        return None if self.search is None else parse(self.search)

    def sort_keys(self) -> list[tuple[str, bool]]:
        if self.sort is None and self.search is not None:
            return [(RELEVANCE, False)]
        keys = super().sort_keys()
        if self.search is None and any(name == RELEVANCE for name, _ in keys):
            raise Unprocessable.at(
                ["query", "sort"], "sorting by relevance needs `search`", "relevance_without_search"
            )
        return keys


def relevance_columns(query: SearchableQuery, rank: Any) -> dict[str, Any]:
    """The sort column that `relevance` names, when the query searches."""
    return {} if query.search is None else {RELEVANCE: rank}
