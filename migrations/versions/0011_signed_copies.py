"""signed copies: the returned file decides the state; a due day for it on each award

Revision ID: 0011_signed_copies
Revises: 0010_drop_stored_states
Create Date: 2026-12-01 21:00:00

Adds the day by which an award's signed copy is expected back (agreements), and the
confirmation that makes an OCR match or a manual check count (document_records). Running
awards get their due day from the award date and the default of 20 working days; an award
without a date counts from the day of this migration.
"""
from datetime import date

import sqlalchemy as sa
from alembic import op

from clause_tracker.workdays import add_working_days  # a stable core module: dates only

# revision identifiers, used by Alembic.
revision = '0011_signed_copies'
down_revision = '0010_drop_stored_states'
branch_labels = None
depends_on = None

DEFAULT_WORKING_DAYS = 20


def upgrade():
    with op.batch_alter_table('agreements') as batch:
        batch.add_column(sa.Column('signed_copy_due_on', sa.Date(), nullable=True))
    with op.batch_alter_table('document_records') as batch:
        batch.add_column(sa.Column('note', sa.Text(), nullable=True))
        batch.add_column(sa.Column('confirmed_at', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('confirmed_by_id', sa.Integer(), nullable=True))
        batch.create_foreign_key('fk_document_records_confirmed_by_id_users', 'users',
                                 ['confirmed_by_id'], ['id'])
    bind = op.get_bind()
    running = "status IN ('awarded', 'active')"
    days = [row[0] for row in bind.execute(sa.text(
        f"SELECT DISTINCT decided_on FROM agreements WHERE {running}"))]
    for day in days:  # one UPDATE per award date, not per agreement
        start = day if isinstance(day, date) else (date.fromisoformat(day) if day else None)
        due = add_working_days(start or date.today(), DEFAULT_WORKING_DAYS)
        where = "decided_on = :day" if day is not None else "decided_on IS NULL"
        bind.execute(sa.text(f"UPDATE agreements SET signed_copy_due_on = :due "
                             f"WHERE {running} AND {where}"), {"due": due, "day": day})


def downgrade():
    with op.batch_alter_table('document_records') as batch:
        batch.drop_constraint('fk_document_records_confirmed_by_id_users', type_='foreignkey')
        batch.drop_column('confirmed_by_id')
        batch.drop_column('confirmed_at')
        batch.drop_column('note')
    with op.batch_alter_table('agreements') as batch:
        batch.drop_column('signed_copy_due_on')
