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


Word = tuple[int, str, Any, int, int, int, int]  # a row of search_word


def value_words(kind: int, item: Any, field: int, value_no: int, folded: str) -> list[Word]:
    found = folded.split()
    return [
        (kind, word, item, field, value_no, position, len(found))
        for position, word in enumerate(found)
    ]


def expected_words(connection: Connection) -> set[Word]:
    """The rows search_word must hold: every word of each book's title (field 0), authors
    (1, one value a position), series (2), tags (3, one value a tag in name order) and
    description (4), and of each author's name (0) and bio (1)."""
    tags: defaultdict[Any, list[str]] = defaultdict(list)
    for book_id, name in connection.execute(
        text("SELECT bt.book_id, t.name FROM book_tag AS bt JOIN tag AS t ON t.id = bt.tag_id")
    ):
        tags[book_id].append(name)
    expected: set[Word] = set()
    names = {}
    for id_, name, bio in connection.execute(text("SELECT id, name, bio FROM author")):
        names[id_] = search_text(name)
        expected.update(value_words(1, id_, 0, 0, names[id_]))
        expected.update(value_words(1, id_, 1, 0, search_text(bio)))
    for book_id, author_id, position in connection.execute(
        text("SELECT book_id, author_id, position FROM book_author")
    ):
        expected.update(value_words(0, book_id, 1, position, names[author_id]))
    for id_, title, series, description in connection.execute(
        text("SELECT id, title, series, description FROM book")
    ):
        for field, value in ((0, title), (2, series), (4, description)):
            expected.update(value_words(0, id_, field, 0, search_text(value)))
        for rank, name in enumerate(sorted(tags[id_])):
            expected.update(value_words(0, id_, 3, rank, search_text(name)))
    return expected


def deletions(word: str) -> set[str]:
    """What the deletion neighbourhood holds for a word that is not a number: its first seven
    characters less none, one or two, three characters or more."""
    head = word[:7]
    found = {head}
    found |= {head[:i] + head[i + 1 :] for i in range(len(head))}
    found |= {variant[:i] + variant[i + 1 :] for variant in found for i in range(len(variant))}
    if len(word) < 3 or (word.isascii() and word.isdigit()):
        return set()
    return {variant for variant in found if len(variant) >= 3}


def index_problems(connection: Connection) -> list[Any]:
    """Every difference between the index and the rows; empty when they agree."""
    problems: list[Any] = []
    for table, sources in SOURCES.items():
        names = ", ".join([*sources, *(f"{source}_search" for source in sources)])
        for row in connection.execute(text(f"SELECT id, {names} FROM {table}")):
            values, folded = row[1 : len(sources) + 1], row[len(sources) + 1 :]
            if [search_text(value) for value in values] != list(folded):
                problems.append((table, tuple(row)))
    indexed = {
        tuple(row)
        for row in connection.execute(
            text("SELECT kind, word, item_id, field, value_no, position, length FROM search_word")
        )
    }
    expected = expected_words(connection)
    if indexed != expected:
        problems.append(("words", sorted(indexed - expected), sorted(expected - indexed)))
    vocabulary = {row[0] for row in connection.execute(text("SELECT word FROM search_vocabulary"))}
    if missing := {row[1] for row in expected} - vocabulary:
        problems.append(("vocabulary", sorted(missing)))
    neighbourhood = {
        tuple(row) for row in connection.execute(text("SELECT variant, word FROM search_deletion"))
    }
    wanted = {(variant, word) for word in vocabulary for variant in deletions(word)}
    if neighbourhood != wanted:
        problems.append(("deletions", sorted(neighbourhood ^ wanted)[:20]))
    if connection.dialect.name == "sqlite":
        problems += trigram_problems(connection)
    return problems


def trigram_problems(connection: Connection) -> list[Any]:
    problems: list[Any] = []
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
    for table in ("book_title_trigram", "author_name_trigram"):
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
