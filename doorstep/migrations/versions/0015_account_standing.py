"""account standing: a password to change at the first login, disabled accounts, and who disabled or enabled them

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 17:40:00
"""
from alembic import op
import sqlalchemy as sa

import engine.db


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
        batch_op.add_column(sa.Column('disabled_at', engine.db.UtcDateTime(timezone=True), nullable=True))
    op.create_table(
        'account_change',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', engine.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column('actor', sa.String(length=120), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('action', sa.String(length=20), nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_account_change_person_id_person'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_account_change')),
    )
    with op.batch_alter_table('account_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_change_person_id'), ['person_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('account_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_change_person_id'))
    op.drop_table('account_change')
    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.drop_column('disabled_at')
        batch_op.drop_column('must_change_password')
