"""server-side login sessions

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 12:10:00
"""
from alembic import op
import sqlalchemy as sa
import engine.db


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('login_session',
    sa.Column('id_digest', sa.String(length=64), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('created_at', engine.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('last_seen', engine.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id_digest', name=op.f('pk_login_session'))
    )
    with op.batch_alter_table('login_session', schema=None) as batch_op:
        batch_op.create_index('ix_login_session_username', ['username'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('login_session', schema=None) as batch_op:
        batch_op.drop_index('ix_login_session_username')
    op.drop_table('login_session')
