"""case record: the accused person (by username), beside the accused unit (by code)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 12:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('case_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('accused_person', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('case_record', schema=None) as batch_op:
        batch_op.drop_column('accused_person')
