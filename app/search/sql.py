"""The database's side of a search: a filter, a rank and a join for a list statement, built
from Folio's own words (never from the user's text), one builder per dialect.

SQLite asks FTS5 tables with MATCH; PostgreSQL a weighted tsvector column with @@. Each word
`w` is asked for as "exactly w, or any word starting with w": an item that has the exact
word matches both halves, so it ranks above one that only has a longer word.
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Float,
    Integer,
    Select,
    Uuid,
    bindparam,
    cast,
    column,
    func,
    literal_column,
    table,
)
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.kit.pagination import PageQuery, Slice, paginate
from app.search.query import RELEVANCE
from app.search.text import SearchQuery

BEST_FIRST = [(RELEVANCE, False)]  # the sort keys of a search's default order

# SQLAlchemy: the index's tables and columns are the migrations' alone, not models.
BOOK_SEARCH = table("book_search", column("rowid", Integer))
BOOK_SEARCH_ROW = table("book_search_row", column("id", Integer), column("book_id", Uuid()))
AUTHOR_SEARCH = table("author_search", column("rowid", Integer))
AUTHOR_SEARCH_ROW = table("author_search_row", column("id", Integer), column("author_id", Uuid()))
# bm25 weights per column, in the tables' column order: title > authors > series > tags >
# description.
BOOK_WEIGHTS = (10.0, 5.0, 3.0, 2.0, 1.0)
AUTHOR_WEIGHTS = (10.0, 4.0)
# ts_rank's weights for D, C, B, A: description, tags, author, title (bio, name for authors).
POSTGRES_WEIGHTS = "'{0.1, 0.2, 0.4, 1.0}'::float4[]"


@dataclass
class Match:
    """How one list statement searches.

    `filter` keeps the matching rows (for counts). On PostgreSQL the page's statement takes
    the filter and `rank`, which sorts best first when ascending; on SQLite it joins the
    `scored` matches (a select of each match's `key` and `score`) instead, and the index
    itself, one entry a row, counts the matches where nothing else filters them (the rows of
    `index` where `index_match` holds).
    """

    filter: Any
    rank: Any = None
    scored: Any = None
    index: Any = None
    index_match: Any = None

    def joined(self, statement: Select[Any], key: Any, best: int | None) -> tuple[Any, Any]:
        """The statement with the search in it, and its rank; only the `best` matches (by
        score, then key: the page's own order) where that is given and the database scores
        apart from the rows."""
        if self.scored is None:
            return statement.where(self.filter), self.rank
        scored = self.scored
        if best is not None:
            scored = scored.order_by(scored.selected_columns.score, scored.selected_columns.key)
            scored = scored.limit(best)
        matches = scored.subquery("matches")
        return statement.join(matches, matches.c.key == key), matches.c.score


def fts5_query(query: SearchQuery) -> str:
    """An FTS5 expression: every token double-quoted (tokens are letters and digits only)."""

    def term(words: list[str]) -> str:
        exact = '"' + " ".join(words) + '"'
        prefix = " + ".join(f'"{word}"*' for word in words)
        return f"({exact} OR {prefix})"

    found = " AND ".join(term(words) for words in query.terms)
    excluded = "".join(' NOT "' + " ".join(words) + '"' for words in query.exclusions)
    return f"({found}){excluded}"


def tsquery(query: SearchQuery) -> str:
    """A tsquery in its input syntax: every lexeme single-quoted, phrases joined by <->."""

    def phrase(words: list[str], suffix: str) -> str:
        return " <-> ".join(f"'{word}'{suffix}" for word in words)

    terms = [f"({phrase(words, '')} | {phrase(words, ':*')})" for words in query.terms]
    terms += [f"!({phrase(words, '')})" for words in query.exclusions]
    return " & ".join(terms)


def fts5_match(
    query: SearchQuery, fts: Any, rows: Any, key: Any, weights: tuple[float, ...], name: str
) -> Match:
    expression: Any = bindparam(f"{name}_match", fts5_query(query))
    # FTS5's MATCH and bm25() take the table itself as their first operand.
    fts_table: Any = literal_column(name)
    matches = fts_table.op("MATCH")(expression)
    found = select(key).select_from(fts.join(rows, rows.c.id == fts.c.rowid)).where(matches)
    scored = (
        select(key.label("key"), func.bm25(fts_table, *weights, type_=Float).label("score"))
        .select_from(fts.join(rows, rows.c.id == fts.c.rowid))
        .where(matches)
    )
    return Match(filter=found, scored=scored, index=fts, index_match=matches)


def postgres_match(query: SearchQuery, vector: Any) -> Match:
    expression = cast(bindparam("search_query", tsquery(query)), TSQUERY)
    rank = func.ts_rank(literal_column(POSTGRES_WEIGHTS), vector, expression)
    return Match(filter=vector.op("@@")(expression), rank=-cast(rank, Float))


def book_match(query: SearchQuery, dialect: str, book_id: Any) -> Match:
    """The search over books' titles, authors, tags and descriptions."""
    if dialect == "sqlite":
        match = fts5_match(
            query,
            BOOK_SEARCH,
            BOOK_SEARCH_ROW,
            BOOK_SEARCH_ROW.c.book_id,
            BOOK_WEIGHTS,
            "book_search",
        )
        match.filter = col(book_id).in_(match.filter)
        return match
    return postgres_match(query, literal_column("book.search_vector"))


def author_match(query: SearchQuery, dialect: str, author_id: Any) -> Match:
    """The search over authors' names and bios."""
    if dialect == "sqlite":
        match = fts5_match(
            query,
            AUTHOR_SEARCH,
            AUTHOR_SEARCH_ROW,
            AUTHOR_SEARCH_ROW.c.author_id,
            AUTHOR_WEIGHTS,
            "author_search",
        )
        match.filter = col(author_id).in_(match.filter)
        return match
    return postgres_match(query, literal_column("author.search_vector"))


BOOK_TITLE_TRIGRAM = table("book_title_trigram", column("rowid", Integer), column("title"))
AUTHOR_NAME_TRIGRAM = table("author_name_trigram", column("rowid", Integer), column("name"))
# Trigram indexes find substrings of three characters or more; shorter ones are read in full.
TRIGRAM = 3


def substring_filter(folded: str, dialect: str, kind: str, id_column: Any, column_: Any) -> Any:
    """Rows whose folded `column_` contains `folded` (`q`), through a trigram index.

    PostgreSQL's pg_trgm index serves the LIKE itself. SQLite's FTS5 trigram table serves GLOB
    but not a LIKE with ESCAPE, so `q` becomes a GLOB there, on text folded already. A `q` with
    GLOB's own characters is read in full instead: SQLite 3.40's trigram GLOB crashed the
    process on some bracketed patterns (found by tests/search/test_any_text.py).
    """
    if dialect != "sqlite" or len(folded) < TRIGRAM or any(char in folded for char in "*?[]"):
        return column_.contains(folded, autoescape=True)
    if kind == "book":
        trigram, rows, text_column = BOOK_TITLE_TRIGRAM, BOOK_SEARCH_ROW, BOOK_TITLE_TRIGRAM.c.title
        key = BOOK_SEARCH_ROW.c.book_id
    else:
        trigram, rows, text_column = (
            AUTHOR_NAME_TRIGRAM,
            AUTHOR_SEARCH_ROW,
            AUTHOR_NAME_TRIGRAM.c.name,
        )
        key = AUTHOR_SEARCH_ROW.c.author_id
    found = (
        select(key)
        .select_from(trigram.join(rows, rows.c.id == trigram.c.rowid))
        .where(text_column.op("GLOB")(f"*{folded}*"))
    )
    return col(id_column).in_(found)


@dataclass
class Ranked:
    """A list's statement and the search it may make (joined to it by `key`), for `paginate`."""

    statement: Any
    match: Match | None
    key: Any

    async def page(
        self, session: AsyncSession, query: PageQuery, filters: list[Any], counted: type[Any]
    ) -> Slice[Any]:
        """The query's page of the statement, sorted by relevance where it asks to be.

        A search's rank joins the statement as the sort column `relevance`. When nothing but
        the search filters the rows and the page is in relevance order by number, it can hold
        only the best `offset + page` matches: they are picked before any row is joined. With
        no other filter, SQLite counts the matches in the index alone.
        """
        match = self.match
        if match is None:
            return await paginate(session, query, self.statement, filters, counted, key=self.key)
        by_rank_alone = not filters and query.after is None and query.sort_keys == BEST_FIRST
        best = query.offset + query.per_page + 1 if by_rank_alone else None
        statement, rank = match.joined(self.statement, self.key, best)
        rank = rank.label(RELEVANCE)
        if not filters and match.index is not None:
            counted, also_counted = match.index, [match.index_match]
        else:
            also_counted = [match.filter]
        return await paginate(
            session,
            query,
            statement.add_columns(rank),
            filters,
            counted,
            columns={RELEVANCE: rank},
            also_counted=also_counted,
        )
