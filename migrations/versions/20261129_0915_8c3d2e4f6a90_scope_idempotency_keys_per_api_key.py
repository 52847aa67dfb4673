"""scope idempotency keys per api key

Existing keys were sent before there were API keys; they move to the anonymous owner
(the nil UUID), which is also the owner of keys sent with no API key in open mode.

Revision ID: 8c3d2e4f6a90
Revises: 5e1f0a6b7c21
Create Date: 2026-11-29 09:15:00.000000+00:00
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8c3d2e4f6a90"
down_revision: str | None = "5e1f0a6b7c21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ANONYMOUS = uuid.UUID(int=0)
idempotency_key = sa.table(
    "idempotency_key", sa.column("key", sa.String()), sa.column("api_key_id", sa.Uuid())
)


def upgrade() -> None:
    op.add_column("idempotency_key", sa.Column("api_key_id", sa.Uuid(), nullable=True))
    op.execute(idempotency_key.update().values(api_key_id=ANONYMOUS))
    with op.batch_alter_table("idempotency_key", schema=None) as batch_op:
        batch_op.alter_column("api_key_id", existing_type=sa.Uuid(), nullable=False)
        batch_op.drop_constraint("uq_idempotency_key_key", type_="unique")
        batch_op.create_unique_constraint(
            "uq_idempotency_key_api_key_id_key", ["api_key_id", "key"]
        )


def downgrade() -> None:
    # One key per value again: a value that several API keys used keeps none of its answers.
    shared = (
        sa.select(idempotency_key.c.key)
        .group_by(idempotency_key.c.key)
        .having(sa.func.count() > 1)
        .scalar_subquery()
    )
    op.execute(idempotency_key.delete().where(idempotency_key.c.key.in_(shared)))
    with op.batch_alter_table("idempotency_key", schema=None) as batch_op:
        batch_op.drop_constraint("uq_idempotency_key_api_key_id_key", type_="unique")
        batch_op.create_unique_constraint("uq_idempotency_key_key", ["key"])
        batch_op.drop_column("api_key_id")
