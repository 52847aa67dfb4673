"""Whether the search index holds exactly what the rows say, on either database.

What each row's index entry must be is worked out here in Python from the rows' own text,
not with the triggers' SQL, so a wrong trigger cannot agree with itself.
"""

from collections import defaultdict
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from app.search.text import search_text

SOURCES = {
    "author": ("name", "bio"),
    "book": ("title", "series", "description"),
    "tag": ("name",),
}


Entries = dict[Any, tuple[str, ...]]


def expected_entries(connection: Connection) -> tuple[Entries, Entries]:
    """Each book's (title, authors, series, tags, description) and each author's (name, bio),
    folded."""
    tags: defaultdict[Any, list[tuple[str, str]]] = defaultdict(list)
    for book_id, name in connection.execute(
        text("SELECT bt.book_id, t.name FROM book_tag AS bt JOIN tag AS t ON t.id = bt.tag_id")
    ):
        tags[book_id].append((name, search_text(name)))
    authors: Entries = {
        id_: (search_text(name), search_text(bio))
        for id_, name, bio in connection.execute(text("SELECT id, name, bio FROM author"))
    }
    written: defaultdict[Any, list[tuple[int, Any]]] = defaultdict(list)
    for book_id, author_id, position in connection.execute(
        text("SELECT book_id, author_id, position FROM book_author")
    ):
        written[book_id].append((position, author_id))
    books: Entries = {
        id_: (
            search_text(title),
            " ".join(
                authors[author_id][0]
                for _, author_id in sorted(written[id_])
                if authors[author_id][0]
            ),
            search_text(series),
            " ".join(folded for _, folded in sorted(tags[id_]) if folded),
            search_text(description),
        )
        for id_, title, series, description in connection.execute(
            text("SELECT id, title, series, description FROM book")
        )
    }
    return books, authors


def index_problems(connection: Connection) -> list[Any]:
    """Every difference between the index and the rows; empty when they agree."""
    problems: list[Any] = []
    for table, sources in SOURCES.items():
        names = ", ".join([*sources, *(f"{source}_search" for source in sources)])
        for row in connection.execute(text(f"SELECT id, {names} FROM {table}")):
            values, folded = row[1 : len(sources) + 1], row[len(sources) + 1 :]
            if [search_text(value) for value in values] != list(folded):
                problems.append((table, tuple(row)))
    books, authors = expected_entries(connection)
    if connection.dialect.name == "sqlite":
        return problems + sqlite_problems(connection, books, authors)
    return problems + postgres_problems(connection, books, authors)


def sqlite_problems(
    connection: Connection, books: dict[Any, tuple[str, ...]], authors: dict[Any, tuple[str, ...]]
) -> list[Any]:
    indexed_books = connection.execute(
        text(
            "SELECT k.book_id, s.title, s.authors, s.series, s.tags, s.description"
            " FROM book_search AS s JOIN book_search_row AS k ON k.id = s.rowid"
        )
    ).all()
    indexed_authors = connection.execute(
        text(
            "SELECT k.author_id, s.name, s.bio"
            " FROM author_search AS s JOIN author_search_row AS k ON k.id = s.rowid"
        )
    ).all()
    problems: list[Any] = []
    for expected, indexed in ((books, indexed_books), (authors, indexed_authors)):
        found = {row[0]: tuple(row[1:]) for row in indexed}
        wanted = dict(expected)
        if found != wanted or len(found) != len(indexed):
            problems.append(("index", wanted, found))
    for table, column, rows, key, source in (
        ("book_title_trigram", "title", "book_search_row", "book_id", "book.title_folded"),
        ("author_name_trigram", "name", "author_search_row", "author_id", "author.name_folded"),
    ):
        parent = source.split(".")[0]
        differ = connection.execute(
            text(
                f"SELECT count(*) FROM {parent} JOIN {rows} AS k ON k.{key} = {parent}.id"
                f" LEFT JOIN {table} AS t ON t.rowid = k.id"
                f" WHERE t.{column} IS NOT {source}"
            )
        ).scalar_one()
        extra = connection.execute(
            text(f"SELECT count(*) FROM {table} WHERE rowid NOT IN (SELECT id FROM {rows})")
        ).scalar_one()
        if differ or extra:
            problems.append((table, differ, extra))
    for table in ("book_search", "author_search", "book_title_trigram", "author_name_trigram"):
        # FTS5 checks its full-text index against the text it holds; an error if they differ.
        connection.execute(text(f"INSERT INTO {table} ({table}) VALUES ('integrity-check')"))
    keys = connection.execute(
        text(
            "SELECT (SELECT count(*) FROM book_search_row) - (SELECT count(*) FROM book),"
            " (SELECT count(*) FROM author_search_row) - (SELECT count(*) FROM author)"
        )
    ).one()
    if tuple(keys) != (0, 0):
        problems.append(("keys", tuple(keys)))
    return problems


def vector(fields: list[tuple[str, str]]) -> str:
    """A tsvector's text for fields of (words, weight), placed as the triggers place them."""
    lexemes: list[str] = []
    offset = 0
    for words, weight in fields:
        positions = list(enumerate(words.split(), start=offset + 2))
        lexemes.extend(f"'{word}':{position}{weight}" for position, word in positions)
        offset = positions[-1][0] if positions else offset
    return " ".join(lexemes)


def postgres_problems(
    connection: Connection, books: dict[Any, tuple[str, ...]], authors: dict[Any, tuple[str, ...]]
) -> list[Any]:
    problems: list[Any] = []
    # Weights: a book's title A, authors B, series and tags C, description D; an author's
    # name A and bio B.
    for table, entries, weights in (("book", books, "ABCCD"), ("author", authors, "AB")):
        for id_, entry in entries.items():
            expected = vector(list(zip(entry, weights, strict=True)))
            same = connection.execute(
                text(
                    f"SELECT search_vector = CAST(:expected AS tsvector) FROM {table}"
                    " WHERE id = :id"
                ),
                {"expected": expected, "id": id_},
            ).scalar_one()
            if not same:
                problems.append((table, id_, expected))
    return problems
