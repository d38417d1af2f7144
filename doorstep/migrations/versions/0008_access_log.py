"""access log: reads of a case (page views, exports, unmasking) kept apart from its step history

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 12:50:00
"""
import sqlalchemy as sa
from alembic import op

import engine.db

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "access_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("business_time", engine.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("wall_time", engine.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("personal_data", sa.Boolean(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=True),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["instance_id"], ["instance.id"], name=op.f("fk_access_log_instance_id_instance")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_log")),
        sa.UniqueConstraint("instance_id", "seq", name=op.f("uq_access_log_instance_id")),
    )
    with op.batch_alter_table("access_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_access_log_instance_id"), ["instance_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_access_log_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_access_log_actor"), ["actor"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("access_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_log_actor"))
        batch_op.drop_index(batch_op.f("ix_access_log_kind"))
        batch_op.drop_index(batch_op.f("ix_access_log_instance_id"))
    op.drop_table("access_log")
