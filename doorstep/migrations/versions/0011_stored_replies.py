"""stored replies of API calls made with an Idempotency-Key

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 12:30:00
"""
from alembic import op
import sqlalchemy as sa
import engine.db


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('stored_reply',
    sa.Column('username', sa.String(length=120), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.Column('headers', sa.JSON(), nullable=False),
    sa.Column('created_at', engine.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('username', 'key', name=op.f('pk_stored_reply'))
    )
    with op.batch_alter_table('stored_reply', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stored_reply_created_at'), ['created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('stored_reply', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stored_reply_created_at'))
    op.drop_table('stored_reply')
