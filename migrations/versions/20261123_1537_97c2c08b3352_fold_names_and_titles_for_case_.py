"""fold names and titles for case-insensitive matching

Revision ID: 97c2c08b3352
Revises: 6cbc5fc5689e
Create Date: 2026-11-23 15:37:49.707335+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "97c2c08b3352"
down_revision: str | None = "6cbc5fc5689e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


BATCH = 1000


def backfill(table_name: str, source: str, target: str) -> None:
    """Fill `target` with `source` case-folded, as the app's models do on every write."""
    table = sa.table(table_name, sa.column("id", sa.Uuid()), sa.column(source), sa.column(target))
    connection = op.get_bind()
    update = (
        sa.update(table)
        .where(table.c.id == sa.bindparam("row_id"))
        .values({target: sa.bindparam("folded")})
    )
    rows = connection.execute(sa.select(table.c.id, table.c[source])).all()
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        connection.execute(
            update, [{"row_id": id_, "folded": text.casefold()} for id_, text in batch]
        )


def upgrade() -> None:
    # Python's casefold, unlike SQLite's lower(), folds every script, not only ASCII.
    # Batch mode cannot carry the expression index over, so it goes first.
    op.drop_index("ix_author_lower_name", table_name="author")
    for table_name, source, target in (
        ("author", "name", "name_folded"),
        ("book", "title", "title_folded"),
    ):
        with op.batch_alter_table(table_name) as batch_op:
            batch_op.add_column(sa.Column(target, sa.String(), nullable=True))
        backfill(table_name, source, target)
        with op.batch_alter_table(table_name) as batch_op:
            batch_op.alter_column(target, existing_type=sa.String(), nullable=False)
    op.create_index("ix_author_name_folded", "author", ["name_folded"])


def downgrade() -> None:
    op.drop_index("ix_author_name_folded", table_name="author")
    with op.batch_alter_table("book") as batch_op:
        batch_op.drop_column("title_folded")
    with op.batch_alter_table("author") as batch_op:
        batch_op.drop_column("name_folded")
    op.create_index("ix_author_lower_name", "author", [sa.text("lower(name)")])
