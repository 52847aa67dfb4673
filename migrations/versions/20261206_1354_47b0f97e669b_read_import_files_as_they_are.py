"""Read import files as they are: each import keeps the options its file is read with and
counts its warnings; `import_warning` lists the values of applied rows that were repaired.

Revision ID: 47b0f97e669b
Revises: fe8479185281
Create Date: 2026-12-06 13:54:38.817673+00:00

Imports made before this read their files as before: UTF-8, no mapping, unknown columns an
error (the server defaults say so), the delimiter found from the header.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "47b0f97e669b"
down_revision: str | None = "fe8479185281"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "import_warning",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("import_id", sa.Uuid(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("loc", sa.String(length=100), nullable=False),
        sa.Column("msg", sa.Text(), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["import.id"],
            name=op.f("fk_import_warning_import_id_import"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_warning")),
    )
    with op.batch_alter_table("import_warning", schema=None) as batch_op:
        batch_op.create_index(
            "ix_import_warning_import_id_line_id", ["import_id", "line", "id"], unique=False
        )

    with op.batch_alter_table("import", schema=None) as batch_op:
        batch_op.add_column(sa.Column("warnings", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("columns", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "unknown_columns", sa.String(length=16), server_default="error", nullable=False
            )
        )
        batch_op.add_column(sa.Column("delimiter", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("author_separator", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column("charset", sa.String(length=16), server_default="utf-8", nullable=False)
        )
        batch_op.add_column(sa.Column("ignored_columns", sa.Text(), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_import_unknown_columns"), "unknown_columns IN ('error', 'ignore')"
        )
        batch_op.create_check_constraint(
            op.f("ck_import_delimiter"),
            "delimiter IS NULL OR delimiter IN ('comma', 'semicolon', 'tab')",
        )
        batch_op.create_check_constraint(
            op.f("ck_import_charset"),
            "charset IN ('utf-8', 'utf-16', 'iso-8859-1', 'windows-1252')",
        )
        batch_op.create_check_constraint(op.f("ck_import_warnings"), "warnings >= 0")


def downgrade() -> None:
    with op.batch_alter_table("import", schema=None) as batch_op:
        for name in ("warnings", "charset", "delimiter", "unknown_columns"):
            batch_op.drop_constraint(op.f(f"ck_import_{name}"), type_="check")
        batch_op.drop_column("ignored_columns")
        batch_op.drop_column("charset")
        batch_op.drop_column("author_separator")
        batch_op.drop_column("delimiter")
        batch_op.drop_column("unknown_columns")
        batch_op.drop_column("columns")
        batch_op.drop_column("warnings")

    with op.batch_alter_table("import_warning", schema=None) as batch_op:
        batch_op.drop_index("ix_import_warning_import_id_line_id")

    op.drop_table("import_warning")
