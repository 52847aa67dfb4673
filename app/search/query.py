"""The `search`, `highlight` and `sort=relevance` query parameters of a searchable list."""

from typing import Any

from pydantic import Field, field_validator
from sqlalchemy import Float, column
from sqlmodel.ext.asyncio.session import AsyncSession

from app.kit.cursor import query_error
from app.kit.pagination import PageQuery
from app.kit.sorting import Sorting, SortKey
from app.search.text import MAX_SEARCH_LENGTH, MAX_SEARCH_WORDS, SearchQuery, parse
from app.search.typos import typo_words

RELEVANCE = "relevance"
# The sort definition's stand-in for a search's rank, which each request makes anew: it gives
# `relevance` its place among the sort fields and its type, which a cursor's value must have.
RANK = column(RELEVANCE, Float)
NO_WORD = "must contain a word to look for: letters or digits, not only exclusions"
TOO_MANY_WORDS = (
    f"may carry at most {MAX_SEARCH_WORDS} words (a phrase counts its words, a repeated word once)"
)


def ranked(columns: dict[str, Any], default: str, tie_breaker: Any) -> Sorting:
    """The sorting of a searchable list: its own columns, and `relevance` with `search`."""
    return Sorting({**columns, RELEVANCE: RANK}, default, tie_breaker)


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
    typos: bool = Field(
        default=True,
        description="With `false`, `search` matches words exactly or as prefixes, never typos.",
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
    def words_to_find(cls, value: str | None) -> str | None:
        if value is None:
            return value
        parsed = parse(value)
        if not parsed.terms:
            raise ValueError(NO_WORD)
        if parsed.word_count > MAX_SEARCH_WORDS:
            raise ValueError(TOO_MANY_WORDS)
        return value

    async def match_typos(self, session: AsyncSession) -> dict[str, dict[str, int]]:
        """The indexed words the search's words match with a typo (none with `typos=false`)."""
        parsed = self.parsed
        if parsed is None or not self.typos:
            return {}
        return await typo_words(session, parsed.typo_words)

    @property
    def parsed(self) -> SearchQuery | None:
        """The search text as words, phrases and exclusions; None without `search`."""
        return None if self.search is None else parse(self.search)

    def resolve_sort(self) -> list[SortKey]:
        if self.sort is None and self.search is not None:
            return [(RELEVANCE, False)]
        keys = super().resolve_sort()
        if self.search is None and any(name == RELEVANCE for name, _ in keys):
            message = "sorting by relevance needs `search`"
            raise query_error("sort", "relevance_without_search", message, self.sort)
        return keys
