"""the petitioner's one rating per case, enforced by a primary key

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 12:30:00
"""
from alembic import op
import sqlalchemy as sa
import engine.db


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('case_rating',
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('satisfaction', sa.String(length=32), nullable=False),
    sa.Column('rated_at', engine.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['instance.id'], name=op.f('fk_case_rating_instance_id_instance')),
    sa.PrimaryKeyConstraint('instance_id', name=op.f('pk_case_rating'))
    )
    # Cases rated before the constraint existed keep their (first) rating.
    op.execute("INSERT INTO case_rating (instance_id, satisfaction, rated_at) "
               "SELECT instance_id, satisfaction, COALESCE(closed_at, registered_at) FROM case_record "
               "WHERE satisfaction IS NOT NULL AND satisfaction <> ''")


def downgrade() -> None:
    op.drop_table('case_rating')
