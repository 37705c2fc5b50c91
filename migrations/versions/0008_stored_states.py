"""stored states: every agreement's compliance state, for the lists, with its mark

Revision ID: 0008_stored_states
Revises: 0007_list_indexes
Create Date: 2026-11-25 15:55:00

See clause_tracker/compliance/stored_states.py: rows are read only while their mark (day,
newest audit event, rules) is current.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0008_stored_states'
down_revision = '0007_list_indexes'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'stored_states',
        sa.Column('agreement_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('reason', sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint('agreement_id', name=op.f('pk_stored_states')),
    )
    op.create_table(
        'stored_state_marks',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('audit_event_id', sa.Integer(), nullable=False),
        sa.Column('audit_hash', sa.String(length=64), nullable=False),
        sa.Column('rules', sa.String(length=64), nullable=False),
        sa.Column('refreshed_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_stored_state_marks')),
    )


def downgrade():
    op.drop_table('stored_state_marks')
    op.drop_table('stored_states')
