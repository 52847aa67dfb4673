"""Index the author name filter and the tag list in their default sort order.

Revision ID: 2a964525d9fe
Revises: 97c2c08b3352
Create Date: 2026-11-23 17:55:38.989431+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "2a964525d9fe"
down_revision: str | None = "97c2c08b3352"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # `?name=` with the default sort (name, id) no longer sorts the rows it finds.
    op.drop_index("ix_author_name_folded", table_name="author")
    op.create_index("ix_author_name_folded_name_id", "author", ["name_folded", "name", "id"])
    op.create_index("ix_tag_name_id", "tag", ["name", "id"])


def downgrade() -> None:
    op.drop_index("ix_tag_name_id", table_name="tag")
    op.drop_index("ix_author_name_folded_name_id", table_name="author")
    op.create_index("ix_author_name_folded", "author", ["name_folded"])
