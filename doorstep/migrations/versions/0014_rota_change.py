"""rota change: who generated, swapped or reassigned a township's reception rota, when and how

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 17:10:00
"""
from alembic import op
import sqlalchemy as sa

import engine.db


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'rota_change',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', engine.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column('actor', sa.String(length=120), nullable=False),
        sa.Column('township_id', sa.Integer(), nullable=False),
        sa.Column('action', sa.String(length=20), nullable=False),
        sa.Column('detail', sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(['township_id'], ['org_unit.id'], name=op.f('fk_rota_change_township_id_org_unit')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_rota_change')),
    )
    with op.batch_alter_table('rota_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rota_change_township_id'), ['township_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('rota_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rota_change_township_id'))
    op.drop_table('rota_change')
