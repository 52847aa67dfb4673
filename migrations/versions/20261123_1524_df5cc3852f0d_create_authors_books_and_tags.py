"""create authors books and tags

Revision ID: df5cc3852f0d
Revises:
Create Date: 2026-11-23 15:24:54.147766+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "df5cc3852f0d"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "author",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("bio", sa.String(length=5000), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_author")),
    )
    with op.batch_alter_table("author", schema=None) as batch_op:
        batch_op.create_index("ix_author_created_at_id", ["created_at", "id"], unique=False)
        batch_op.create_index("ix_author_name_id", ["name", "id"], unique=False)
        batch_op.create_index("ix_author_updated_at_id", ["updated_at", "id"], unique=False)
    # Autogenerate skips expression indexes; this one serves `GET /authors?name=`.
    op.create_index("ix_author_lower_name", "author", [sa.text("lower(name)")])

    op.create_table(
        "tag",
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tag")),
        sa.UniqueConstraint("name", name=op.f("uq_tag_name")),
    )
    op.create_table(
        "book",
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("isbn", sa.String(length=13), nullable=True),
        sa.Column("published_year", sa.Integer(), nullable=True),
        sa.Column("description", sa.String(length=20000), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["author.id"], name=op.f("fk_book_author_id_author"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_book")),
        sa.UniqueConstraint("isbn", name=op.f("uq_book_isbn")),
    )
    with op.batch_alter_table("book", schema=None) as batch_op:
        batch_op.create_index(
            "ix_book_author_id_title_id", ["author_id", "title", "id"], unique=False
        )
        batch_op.create_index("ix_book_created_at_id", ["created_at", "id"], unique=False)
        batch_op.create_index("ix_book_published_year_id", ["published_year", "id"], unique=False)
        batch_op.create_index("ix_book_title_id", ["title", "id"], unique=False)
        batch_op.create_index("ix_book_updated_at_id", ["updated_at", "id"], unique=False)

    op.create_table(
        "book_tag",
        sa.Column("book_id", sa.Uuid(), nullable=False),
        sa.Column("tag_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["book_id"], ["book.id"], name=op.f("fk_book_tag_book_id_book"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tag_id"], ["tag.id"], name=op.f("fk_book_tag_tag_id_tag"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("book_id", "tag_id", name=op.f("pk_book_tag")),
    )
    with op.batch_alter_table("book_tag", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_book_tag_tag_id"), ["tag_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("book_tag", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_book_tag_tag_id"))

    op.drop_table("book_tag")
    with op.batch_alter_table("book", schema=None) as batch_op:
        batch_op.drop_index("ix_book_updated_at_id")
        batch_op.drop_index("ix_book_title_id")
        batch_op.drop_index("ix_book_published_year_id")
        batch_op.drop_index("ix_book_created_at_id")
        batch_op.drop_index("ix_book_author_id_title_id")

    op.drop_table("book")
    op.drop_table("tag")
    op.drop_index("ix_author_lower_name", table_name="author")
    with op.batch_alter_table("author", schema=None) as batch_op:
        batch_op.drop_index("ix_author_updated_at_id")
        batch_op.drop_index("ix_author_name_id")
        batch_op.drop_index("ix_author_created_at_id")

    op.drop_table("author")
