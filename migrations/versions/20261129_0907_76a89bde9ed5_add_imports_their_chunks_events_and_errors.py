"""Add imports, the chunks of their uploads, their events and their row errors.

Revision ID: 76a89bde9ed5
Revises: 2a964525d9fe
Create Date: 2026-11-29 09:07:04.791199+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "76a89bde9ed5"
down_revision: str | None = "2a964525d9fe"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "import",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("on_duplicate", sa.String(length=16), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=True),
        sa.Column("rows_processed", sa.Integer(), nullable=False),
        sa.Column("rows_created", sa.Integer(), nullable=False),
        sa.Column("rows_updated", sa.Integer(), nullable=False),
        sa.Column("rows_skipped", sa.Integer(), nullable=False),
        sa.Column("rows_failed", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("checkpoint_offset", sa.BigInteger(), nullable=False),
        sa.Column("checkpoint_line", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "(status = 'failed') = (error IS NOT NULL)", name=op.f("ck_import_error")
        ),
        sa.CheckConstraint(
            "(status IN ('succeeded', 'failed', 'cancelled')) = (finished_at IS NOT NULL)",
            name=op.f("ck_import_finished_at"),
        ),
        sa.CheckConstraint("format IN ('csv', 'ndjson')", name=op.f("ck_import_format")),
        sa.CheckConstraint(
            "on_duplicate IN ('fail', 'skip', 'update')", name=op.f("ck_import_on_duplicate")
        ),
        sa.CheckConstraint(
            "status <> 'queued' OR lease_owner IS NULL", name=op.f("ck_import_queued_free")
        ),
        sa.CheckConstraint(
            "status <> 'running' OR (started_at IS NOT NULL AND lease_owner IS NOT NULL"
            " AND lease_expires_at IS NOT NULL)",
            name=op.f("ck_import_running_lease"),
        ),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')",
            name=op.f("ck_import_status"),
        ),
        sa.CheckConstraint(
            "checkpoint_offset >= 0 AND checkpoint_line >= 0", name=op.f("ck_import_checkpoint")
        ),
        sa.CheckConstraint(
            "rows_created >= 0 AND rows_updated >= 0 AND rows_skipped >= 0 AND rows_failed >= 0"
            " AND rows_processed = rows_created + rows_updated + rows_skipped + rows_failed",
            name=op.f("ck_import_counters"),
        ),
        sa.CheckConstraint(
            "rows_total IS NULL OR rows_processed <= rows_total",
            name=op.f("ck_import_processed_within_total"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import")),
    )
    with op.batch_alter_table("import", schema=None) as batch_op:
        batch_op.create_index("ix_import_created_at_id", ["created_at", "id"], unique=False)
        batch_op.create_index(
            "ix_import_status_created_at_id", ["status", "created_at", "id"], unique=False
        )

    op.create_table(
        "import_chunk",
        sa.Column("import_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["import.id"],
            name=op.f("fk_import_chunk_import_id_import"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("import_id", "seq", name=op.f("pk_import_chunk")),
    )
    op.create_table(
        "import_error",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("import_id", sa.Uuid(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("loc", sa.String(length=100), nullable=True),
        sa.Column("msg", sa.Text(), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["import.id"],
            name=op.f("fk_import_error_import_id_import"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_error")),
    )
    with op.batch_alter_table("import_error", schema=None) as batch_op:
        batch_op.create_index(
            "ix_import_error_import_id_line_id", ["import_id", "line", "id"], unique=False
        )

    op.create_table(
        "import_event",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("import_id", sa.Uuid(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "type IN ('queued', 'started', 'progress', 'resumed', 'cancelled', 'succeeded',"
            " 'failed')",
            name=op.f("ck_import_event_type"),
        ),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["import.id"],
            name=op.f("fk_import_event_import_id_import"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_event")),
    )
    with op.batch_alter_table("import_event", schema=None) as batch_op:
        batch_op.create_index("ix_import_event_import_id_id", ["import_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("import_event", schema=None) as batch_op:
        batch_op.drop_index("ix_import_event_import_id_id")

    op.drop_table("import_event")
    with op.batch_alter_table("import_error", schema=None) as batch_op:
        batch_op.drop_index("ix_import_error_import_id_line_id")

    op.drop_table("import_error")
    op.drop_table("import_chunk")
    with op.batch_alter_table("import", schema=None) as batch_op:
        batch_op.drop_index("ix_import_status_created_at_id")
        batch_op.drop_index("ix_import_created_at_id")

    op.drop_table("import")
