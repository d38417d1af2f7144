"""case record columns the county counts need: where a case came from, where a visit was made, who rated it

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 12:10:00
"""
from alembic import op
import sqlalchemy as sa
import engine.db


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('case_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('handed_down_from', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('visit_level', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('competent_level', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('rating_source', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('rated_at', engine.db.UtcDateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_case_record_rated', ['rated_at'], unique=False)
    # Existing visits: the county bureau registered them at the county, a reception room at the township.
    op.execute("UPDATE case_record SET visit_level = 'county' WHERE channel = 'visit' AND process_id = 'petition'")
    op.execute("UPDATE case_record SET visit_level = 'township' WHERE channel = 'visit' AND process_id = 'reception'")
    op.execute("UPDATE case_record SET competent_level = 'township' WHERE tier IN ('village', 'township')")
    op.execute("UPDATE case_record SET competent_level = 'county' WHERE tier = 'county'")


def downgrade() -> None:
    with op.batch_alter_table('case_record', schema=None) as batch_op:
        batch_op.drop_index('ix_case_record_rated')
        batch_op.drop_column('rated_at')
        batch_op.drop_column('rating_source')
        batch_op.drop_column('competent_level')
        batch_op.drop_column('visit_level')
        batch_op.drop_column('handed_down_from')
