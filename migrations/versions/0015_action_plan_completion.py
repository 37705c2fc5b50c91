"""action plan completion: done on time, late or not done, and the escalation of an overdue plan

Revision ID: 0015_action_plan_completion
Revises: 0014_ended_early
Create Date: 2026-12-01 23:00:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0015_action_plan_completion'
down_revision = '0014_ended_early'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('compliance_measures') as batch:
        batch.add_column(sa.Column('completion', sa.String(length=20), nullable=True))
        batch.add_column(sa.Column('completed_on', sa.Date(), nullable=True))
        batch.add_column(sa.Column('completion_note', sa.Text(), nullable=True))
        batch.add_column(sa.Column('completed_by_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('escalated_at', sa.DateTime(), nullable=True))
        batch.create_foreign_key('fk_compliance_measures_completed_by_id_users', 'users',
                                 ['completed_by_id'], ['id'])


def downgrade():
    with op.batch_alter_table('compliance_measures') as batch:
        batch.drop_constraint('fk_compliance_measures_completed_by_id_users',
                              type_='foreignkey')
        for column in ('escalated_at', 'completed_by_id', 'completion_note', 'completed_on',
                       'completion'):
            batch.drop_column(column)
