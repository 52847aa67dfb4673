"""The database objects of the search index, which the models do not describe: the migrations
create them, and autogenerate's drift check must leave them alone."""

from typing import Any

# SQLite: FTS5 trigram tables (each with shadow tables named after it) and their row keys.
INDEX_TABLES = ("book_title_trigram", "author_name_trigram")
# Both databases: the words, their vocabulary and its deletion neighbourhood.
KEY_TABLES = (
    "book_search_row",
    "author_search_row",
    "search_word",
    "search_vocabulary",
    "search_deletion",
)
# Columns the triggers keep: none since the index is tables of its own.
INDEX_COLUMNS: tuple[str, ...] = ()
# PostgreSQL: the trigram indexes of `q`.
INDEX_NAMES = (
    "ix_book_title_folded_trigram",
    "ix_author_name_folded_trigram",
)


def is_index_table(name: str | None) -> bool:
    """Whether a table belongs to the search index (FTS5 adds `<table>_data` and others)."""
    if name is None:
        return False
    return name in KEY_TABLES or any(
        name == table or name.startswith(f"{table}_") for table in INDEX_TABLES
    )


def include_object(
    _object: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Alembic's filter: skip what only the database has, because the index put it there."""
    if not reflected or compare_to is not None:
        return True
    if type_ == "table":
        return not is_index_table(name)
    if type_ == "column":
        return name not in INDEX_COLUMNS
    if type_ == "index":
        return name not in INDEX_NAMES
    return True
