"""case record: the case a leader packaging takes on (source_case), linked by id; filled for existing cases

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 16:30:00
"""
import json

from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('case_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_case', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_case_record_source_case'), ['source_case'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_case_record_source_case_case_record'), 'case_record',
                                    ['source_case'], ['instance_id'])
    link_existing_packagings(op.get_bind())


def link_existing_packagings(connection: sa.Connection) -> None:
    """Leader packagings started before the column existed: the chosen case is in the listing's submitted data."""
    packagings = connection.execute(sa.text(
        "SELECT instance_id FROM case_record WHERE process_id = 'leader_package' AND source_case IS NULL")).scalars()
    for instance_id in list(packagings):
        rows = connection.execute(sa.text("SELECT data FROM event WHERE instance_id = :id AND type = 'task_completed' "
                                          "ORDER BY seq"), {"id": instance_id}).scalars()
        for raw in rows:
            data = json.loads(raw) if isinstance(raw, str) else (raw or {})
            chosen = (data.get("submitted") or {}).get("source_case")
            if isinstance(chosen, int) and chosen != instance_id and connection.execute(sa.text(
                    "SELECT 1 FROM case_record WHERE instance_id = :id"), {"id": chosen}).first():
                connection.execute(sa.text("UPDATE case_record SET source_case = :chosen WHERE instance_id = :id"),
                                   {"chosen": chosen, "id": instance_id})
                break


def downgrade() -> None:
    with op.batch_alter_table('case_record', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_case_record_source_case_case_record'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_case_record_source_case'))
        batch_op.drop_column('source_case')
