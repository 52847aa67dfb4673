"""The database's side of a search: a filter and a rank for a list statement, the same SQL on
SQLite and PostgreSQL, built from Folio's own words (the user's are bound parameters).

Both read `search_word` (one row per word of each field value, see the migration 309d8e61f2e1)
and apply the contract's six ranking rules; the first five are folded into one number,
`relevance`, lowest first, and `id` (the tie breaker of every sort) is the sixth.
"""

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Float, Integer, Select, Uuid, column, table, text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.kit.pagination import PageQuery, Slice, paginate
from app.search.query import RELEVANCE
from app.search.text import SearchQuery

BEST_FIRST = [(RELEVANCE, False)]  # the sort keys of a search's default order
BOOK, AUTHOR = 0, 1  # `search_word.kind`
# Each rule's number of values, to fold the rules into one integer: at most two typos for
# each of ten words, a chain or not, five fields, four degrees of exactness, and a title of
# at most 500 characters (a name, 200).
RULE_SIZES = (2, 5, 4, 1000)


@dataclass
class Match:
    """How one list statement searches: `filter` keeps the matching rows (for counts and
    facets); `scored` selects each match's `key` and `score`, which the page joins; `typos`
    holds the indexed words each query word matched with a typo, for highlights."""

    filter: Any
    scored: Any
    typos: set[str] = field(default_factory=set)

    def joined(self, statement: Select[Any], key: Any, best: int | None) -> tuple[Any, Any]:
        """The statement with the search in it, and its rank; only the `best` matches (by
        score, then key: the page's own order) where that is given."""
        scored = self.scored
        if best is not None:
            scored = scored.order_by(scored.selected_columns.score, scored.selected_columns.key)
            scored = scored.limit(best)
        matches = scored.subquery("matches")
        return statement.join(matches, matches.c.key == key), matches.c.score


def next_string(word: str) -> str:
    """The least string after every string that starts with `word`, in code-point order."""
    last = ord(word[-1]) + 1
    if 0xD800 <= last <= 0xDFFF:  # no character there: the next one follows the surrogates
        last = 0xE000
    return word[:-1] + chr(last)


class Statement:
    """One search's SQL text and its parameters, named with `prefix` so that two searches can
    sit in one statement (the page's join and its count)."""

    def __init__(self, query: SearchQuery, typos: dict[str, dict[str, int]], prefix: str):
        self.params: dict[str, Any] = {}
        self.prefix = prefix
        self.words = query.all_words
        self.terms = query.terms
        self.exclusions = query.exclusions
        # The typos of each word, by its place in the query: a phrase's words get none.
        self.typos = [
            typos.get(word, {}) if len(term) == 1 and word not in query.quoted else {}
            for term in query.terms
            for word in term
        ]

    def param(self, value: Any) -> str:
        name = f"{self.prefix}{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    def conditions(self, index: int) -> list[str]:
        """The conditions on `search_word.word` that match query word `index`: its range of
        prefixes and its typos, apart, each read from the primary key (an OR of the two reads
        the whole table on SQLite)."""
        word = self.words[index]
        found = [f"word >= {self.param(word)} AND word < {self.param(next_string(word))}"]
        if typos := self.typos[index]:
            found.append("word IN (" + ", ".join(self.param(typo) for typo in typos) + ")")
        return found

    def candidates(self, kind: int) -> str:
        """The items holding every word, from the key alone: far fewer rows than the words'
        own when the words are many."""
        return " INTERSECT ".join(
            "SELECT item_id FROM ("
            + " UNION ALL ".join(
                f"SELECT item_id FROM search_word WHERE kind = {kind} AND {condition}"
                for condition in self.conditions(index)
            )
            + ") AS matched"
            for index in range(len(self.words))
        )

    def hits(self, kind: int) -> str:
        """Every indexed word of the candidates that matches a query word: exactly, as a
        prefix or a typo."""
        parts: list[str] = []
        among = " AND item_id IN (SELECT item_id FROM candidates)" if len(self.words) > 1 else ""
        for index, word in enumerate(self.words):
            exact = self.param(word)
            typos = self.typos[index]
            cases = " ".join(
                f"WHEN {self.param(typo)} THEN {edits}" for typo, edits in typos.items()
            )
            edits = f"CASE word {cases} ELSE 0 END" if typos else "0"
            parts.extend(
                f"SELECT {index} AS i, item_id, field, value_no, position, length,"
                f" {edits} AS typos, CASE WHEN word = {exact} THEN 1 ELSE 0 END AS exact"
                f" FROM search_word WHERE kind = {kind} AND {condition}{among}"
                for condition in self.conditions(index)
            )
        return " UNION ALL ".join(parts)

    def chain(self, first: int, last: int, source: str) -> tuple[str, str]:
        """FROM and WHERE of the runs of words `first`..`last` at consecutive positions of one
        value, from `source` rows (aliased h{i})."""
        joins = [f"{source} AS h{first}"]
        where = [f"h{first}.i = {first}"]
        for i in range(first + 1, last + 1):
            joins.append(
                f"JOIN {source} AS h{i} ON h{i}.item_id = h{first}.item_id"
                f" AND h{i}.field = h{first}.field AND h{i}.value_no = h{first}.value_no"
                f" AND h{i}.position = h{first}.position + {i - first} AND h{i}.i = {i}"
            )
        return " ".join(joins), " AND ".join(where)

    def excluded(self, kind: int) -> list[str]:
        """Conditions that leave out items holding an excluded word or phrase, exactly."""
        conditions = []
        for words in self.exclusions:
            joins = ["search_word AS e0"]
            where = [
                f"e0.kind = {kind}",
                "e0.item_id = items.item_id",
                f"e0.word = {self.param(words[0])}",
            ]
            for i, word in enumerate(words[1:], start=1):
                joins.append(
                    f"JOIN search_word AS e{i} ON e{i}.kind = {kind}"
                    f" AND e{i}.word = {self.param(word)} AND e{i}.item_id = e0.item_id"
                    f" AND e{i}.field = e0.field AND e{i}.value_no = e0.value_no"
                    f" AND e{i}.position = e0.position + {i}"
                )
            conditions.append(
                f"NOT EXISTS (SELECT 1 FROM {' '.join(joins)} WHERE {' AND '.join(where)})"
            )
        return conditions

    def phrases(self) -> list[str]:
        """Conditions that keep items holding each quoted phrase, its words in a row."""
        conditions, start = [], 0
        for words in self.terms:
            end = start + len(words) - 1
            if end > start:
                joins, where = self.chain(start, end, "hits")
                conditions.append(
                    f"items.item_id IN (SELECT h{start}.item_id FROM {joins} WHERE {where})"
                )
            start = end + 1
        return conditions

    def matching(self, kind: int) -> str:
        """The CTEs `hits` and `items`: each item holding every word, with rules 1 and 3 and
        whether every word matched exactly."""
        count = len(self.words)
        if count == 1:
            # One word: its hits grouped once, by item.
            return (
                f"WITH hits AS ({self.hits(kind)}),"
                " items AS (SELECT item_id, min(typos) AS typos, min(field) AS field,"
                f" max(exact) AS exact, min({self.degree(False)}) AS degree"
                " FROM hits GROUP BY item_id)"
            )
        candidates = f"candidates AS ({self.candidates(kind)}), "
        return (
            f"WITH {candidates}hits AS ({self.hits(kind)}),"
            " items AS (SELECT item_id, sum(best) AS typos, min(field) AS field,"
            " min(exact) AS exact, min(degree) AS degree FROM (SELECT item_id, i,"
            " min(typos) AS best, min(field) AS field, max(exact) AS exact,"
            f" min({self.degree(False)}) AS degree"
            f" FROM hits GROUP BY item_id, i) AS words GROUP BY item_id HAVING count(*) = {count})"
        )

    def kept(self, kind: int) -> str:
        conditions = [*self.phrases(), *self.excluded(kind)]
        return " AND ".join(conditions) if conditions else "1 = 1"

    def filter(self, kind: int) -> str:
        """The matching items' keys. Without a phrase they are the items holding every word,
        found from the key alone: the hits' rules are only needed to rank."""
        if any(len(term) > 1 for term in self.terms):
            return f"{self.matching(kind)} SELECT item_id AS key FROM items WHERE {self.kept(kind)}"
        return (
            f"SELECT item_id AS key FROM ({self.candidates(kind)}) AS items WHERE {self.kept(kind)}"
        )

    def degree(self, run: bool) -> str:
        """Rule 4 for one hit (for a run of every word from h0 with `run`): 0 where the value
        is the query, 1 where it starts with it, 2 otherwise."""
        count = len(self.words)
        exact = " AND ".join(f"h{i}.exact = 1" for i in range(count)) if run else "exact = 1"
        first = "h0." if run else ""
        return (
            f"CASE WHEN {exact} AND {first}position = 0"
            f" THEN CASE WHEN {first}length = {count} THEN 0 ELSE 1 END ELSE 2 END"
        )

    def scored(self, kind: int, owner: str, shown: str) -> str:
        """Each match's key and score: rules 1 to 5 as one number, lowest best."""
        count = len(self.words)
        chains, fields, degrees, lengths = RULE_SIZES
        if count == 1:
            # One word: every match is a run of the query, and `items` has its degree.
            exactness = "CASE WHEN items.degree < 2 THEN items.degree"
            exactness += " WHEN items.exact = 1 THEN 2 ELSE 3 END"
            runs, chained, joined = "", "0", ""
        else:
            joins, where = self.chain(0, count - 1, "hits")
            runs = (
                f", chains AS (SELECT h0.item_id, min({self.degree(True)}) AS degree"
                f" FROM {joins} WHERE {where} GROUP BY h0.item_id)"
            )
            exactness = "CASE WHEN c.degree < 2 THEN c.degree"
            exactness += " WHEN items.exact = 1 THEN 2 ELSE 3 END"
            chained = "CASE WHEN c.item_id IS NULL THEN 1 ELSE 0 END"
            joined = " LEFT JOIN chains AS c ON c.item_id = items.item_id"
        score = (
            f"((((items.typos * {chains} + {chained}) * {fields} + items.field) * {degrees}"
            f" + {exactness}) * {lengths} + length(o.{shown}))"
        )
        return (
            f"{self.matching(kind)}{runs}"
            f" SELECT items.item_id AS key, CAST({score} AS FLOAT) AS score FROM items"
            f" JOIN {owner} AS o ON o.id = items.item_id{joined} WHERE {self.kept(kind)}"
        )


def search_match(
    query: SearchQuery, typos: dict[str, dict[str, int]], kind: int, key: Any
) -> Match:
    owner, shown = ("book", "title") if kind == BOOK else ("author", "name")
    found = Statement(query, typos, "sf")
    matching = text(found.filter(kind)).bindparams(**found.params).columns(column("key", Uuid()))
    ranked = Statement(query, typos, "sr")
    scored_text = text(ranked.scored(kind, owner, shown)).bindparams(**ranked.params)
    scored = scored_text.columns(column("key", Uuid()), column("score", Float())).subquery("scored")
    words = {word for matched in typos.values() for word in matched}
    return Match(
        filter=col(key).in_(select(matching.subquery("matching").c.key)),
        scored=select(scored.c.key, scored.c.score),
        typos=words,
    )


def book_match(query: SearchQuery, typos: dict[str, dict[str, int]], book_id: Any) -> Match:
    """The search over books' titles, authors, series, tags and descriptions."""
    return search_match(query, typos, BOOK, book_id)


def author_match(query: SearchQuery, typos: dict[str, dict[str, int]], author_id: Any) -> Match:
    """The search over authors' names and bios."""
    return search_match(query, typos, AUTHOR, author_id)


BOOK_SEARCH_ROW = table("book_search_row", column("id", Integer), column("book_id", Uuid()))
AUTHOR_SEARCH_ROW = table("author_search_row", column("id", Integer), column("author_id", Uuid()))
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
        return await paginate(
            session,
            query,
            statement.add_columns(rank),
            filters,
            counted,
            columns={RELEVANCE: rank},
            also_counted=[match.filter],
        )
