"""Index one book's or one author's words again by its id: SQLite's triggers that re-index a
field of the one row they fire for find its words by `item_id = <id>`, not through a subquery.

Revision ID: 5d0c7a91e3b8
Revises: b7e2d94c05a3
Create Date: 2026-12-07 01:30:00+00:00

The triggers of 309d8e61f2e1 built every re-index from one template, `item_id IN (SELECT b.id
FROM book AS b WHERE <rows>)`, which also serves a renamed tag's many books. For one book SQLite
still builds that list in a temporary table at each firing, which cost a create about 3% of its
instructions (see docs/benchmarks/targets.md, 2026-12-07). The words written are the same; a
book or author that is not there (a link written before its book, a row deleted by a cascade)
had no words of the field before and has none after. PostgreSQL's triggers work on sets of rows
and are left alone. Downgrade restores the template's triggers.
"""

import runpy
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace

from alembic import op

revision: str = "5d0c7a91e3b8"
down_revision: str | None = "b7e2d94c05a3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def word_index() -> SimpleNamespace:
    """The migration whose trigger definitions this one narrows, and downgrade restores."""
    path = Path(__file__).with_name(
        "20261206_1700_309d8e61f2e1_index_words_for_one_ranking_and_typos.py"
    )
    return SimpleNamespace(**runpy.run_path(str(path)))


def one_book_field(index: SimpleNamespace, field: int, book: str) -> str:
    """Statements that index field `field` of the book with id `book` afresh."""
    return f"""
    DELETE FROM search_word WHERE item_id = {book} AND kind = 0 AND field = {field};
    {index.sqlite_book_words(field, f"b.id = {book}")}
    {index.sqlite_vocabulary(f"s.item_id = {book} AND s.kind = 0 AND s.field = {field}")}"""


def one_author_field(index: SimpleNamespace, field: int, author: str) -> str:
    """Statements that index field `field` of the author with id `author` afresh."""
    column = next(name for name, number in index.AUTHOR_FIELDS.items() if number == field)
    words = index.sqlite_words(
        index.AUTHOR, "a.id", field, "0", f"a.{column}", "author AS a", f"a.id = {author}"
    )
    return f"""
    DELETE FROM search_word WHERE item_id = {author} AND kind = 1 AND field = {field};
    {words}
    {index.sqlite_vocabulary(f"s.item_id = {author} AND s.kind = 1 AND s.field = {field}")}"""


def narrowed(index: SimpleNamespace) -> dict[str, str]:
    """The triggers that re-index one row's field, by name, with their new bodies."""
    changed = index.changed
    return {
        **{
            f"book_{column}_update": f"""AFTER UPDATE OF {column} ON book WHEN {changed(column)}
            BEGIN {one_book_field(index, field, "NEW.id")} END"""
            for column, field in index.BOOK_FIELDS.items()
        },
        "book_tag_search_insert": f"""AFTER INSERT ON book_tag BEGIN
        {one_book_field(index, 3, "NEW.book_id")} END""",
        "book_tag_search_delete": f"""AFTER DELETE ON book_tag BEGIN
        {one_book_field(index, 3, "OLD.book_id")} END""",
        **{
            f"author_{column}_update": f"""AFTER UPDATE OF {column} ON author
            WHEN {changed(column)} BEGIN {one_author_field(index, field, "NEW.id")} END"""
            for column, field in index.AUTHOR_FIELDS.items()
        },
    }


def replace_triggers(bodies: dict[str, str]) -> None:
    for name, body in bodies.items():
        op.execute(f"DROP TRIGGER {name}")
        op.execute(f"CREATE TRIGGER {name} {body}")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        replace_triggers(narrowed(word_index()))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        index = word_index()
        replace_triggers({name: index.SQLITE_TRIGGERS[name] for name in narrowed(index)})
