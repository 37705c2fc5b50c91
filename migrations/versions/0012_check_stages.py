"""check stages: findings → hearing held → decided (no breach, or breach confirmed)

Revision ID: 0012_check_stages
Revises: 0011_signed_copies
Create Date: 2026-12-01 21:30:00

A check with findings was "done" as soon as they were typed. It now goes on: the hearing
(with the counterparty's statement), then the decision. Existing checks with findings move
to the stage their record shows: a measure approved on them means the breach was confirmed;
otherwise heard (a hearing recorded) or findings recorded.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0012_check_stages'
down_revision = '0011_signed_copies'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('compliance_checks') as batch:
        batch.add_column(sa.Column('decision', sa.String(length=20), nullable=True))
        batch.add_column(sa.Column('decision_note', sa.Text(), nullable=True))
        batch.add_column(sa.Column('decided_on', sa.Date(), nullable=True))
        batch.add_column(sa.Column('decided_by_id', sa.Integer(), nullable=True))
        batch.create_foreign_key('fk_compliance_checks_decided_by_id_users', 'users',
                                 ['decided_by_id'], ['id'])
    with op.batch_alter_table('compliance_hearings') as batch:
        batch.add_column(sa.Column('statement', sa.Text(), nullable=True))
    findings = "outcome = 'findings' AND stage = 'done'"
    op.execute(
        "UPDATE compliance_checks SET stage = 'breach', decision = 'breach_confirmed', "
        "decided_on = completed_on "
        f"WHERE {findings} AND id IN (SELECT check_id FROM compliance_measures "
        "WHERE state = 'approved')")
    op.execute(f"UPDATE compliance_checks SET stage = 'heard' WHERE {findings} "
               "AND id IN (SELECT check_id FROM compliance_hearings)")
    op.execute(f"UPDATE compliance_checks SET stage = 'findings' WHERE {findings}")


def downgrade():
    op.execute("UPDATE compliance_checks SET stage = 'done' "
               "WHERE stage IN ('findings', 'heard', 'breach')")
    with op.batch_alter_table('compliance_hearings') as batch:
        batch.drop_column('statement')
    with op.batch_alter_table('compliance_checks') as batch:
        batch.drop_constraint('fk_compliance_checks_decided_by_id_users', type_='foreignkey')
        batch.drop_column('decided_by_id')
        batch.drop_column('decided_on')
        batch.drop_column('decision_note')
        batch.drop_column('decision')
