"""Let imports defer their links' checks: the keys from `book_author` and `book_tag` to `book`
become deferrable (still checked at once unless a transaction defers them).

Revision ID: b7e2d94c05a3
Revises: 309d8e61f2e1
Create Date: 2026-12-06 17:10:00.000000+00:00

On PostgreSQL an import then inserts a batch's links before its new books, so that the search
index's trigger computes each book's entry once, with its authors and tags, rather than once
on insert and again after each table of links. SQLite defers any key with `PRAGMA
defer_foreign_keys` already; its tables are rebuilt only so that they say what the models say.
"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

revision: str = "b7e2d94c05a3"
down_revision: str | None = "309d8e61f2e1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEYS = {"book_author": "fk_book_author_book_id_book", "book_tag": "fk_book_tag_book_id_book"}


def rebuild_sqlite_keys(deferrable: bool) -> None:
    """Rebuild the two tables with their keys to `book` made again. SQLite drops a table's
    triggers with it, and refuses to rename a table while another's trigger names a missing
    one, so every trigger is set aside first and made again after, as it was."""
    bind = op.get_bind()
    triggers = bind.execute(
        text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name")
    ).all()
    for name, _sql in triggers:
        op.execute(f"DROP TRIGGER {name}")
    for table, key in KEYS.items():
        with op.batch_alter_table(table, recreate="always") as batch:
            batch.drop_constraint(key, type_="foreignkey")
            batch.create_foreign_key(
                key,
                "book",
                ["book_id"],
                ["id"],
                ondelete="CASCADE",
                deferrable=deferrable or None,
                initially="IMMEDIATE" if deferrable else None,
            )
    for _name, sql in triggers:
        op.execute(sql)


def alter_keys(deferrable: bool) -> None:
    if op.get_bind().dialect.name == "sqlite":
        rebuild_sqlite_keys(deferrable)
        return
    spelling = "DEFERRABLE INITIALLY IMMEDIATE" if deferrable else "NOT DEFERRABLE"
    for table, key in KEYS.items():
        op.execute(f"ALTER TABLE {table} ALTER CONSTRAINT {key} {spelling}")


def upgrade() -> None:
    alter_keys(deferrable=True)


def downgrade() -> None:
    alter_keys(deferrable=False)
