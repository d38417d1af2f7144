"""chain digest: a daily digest over every case's chain head

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

import engine.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chain_digest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("taken_at", engine.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("heads", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chain_digest")),
    )
    with op.batch_alter_table("chain_digest", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chain_digest_taken_at"), ["taken_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("chain_digest", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chain_digest_taken_at"))
    op.drop_table("chain_digest")
