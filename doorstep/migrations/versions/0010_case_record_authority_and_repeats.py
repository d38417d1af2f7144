"""case record: review and re-examination units, ID-number key, registration decision, final

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 12:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('case_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review_unit', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('reexam_unit', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('id_number_key', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('decision', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('final', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_index(batch_op.f('ix_case_record_id_number_key'), ['id_number_key'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('case_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_record_id_number_key'))
        batch_op.drop_column('final')
        batch_op.drop_column('decision')
        batch_op.drop_column('id_number_key')
        batch_op.drop_column('reexam_unit')
        batch_op.drop_column('review_unit')
