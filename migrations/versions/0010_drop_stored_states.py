"""drop stored states: the lists compute the compliance state live

Revision ID: 0010_drop_stored_states
Revises: 0009_audit_changes_records
Create Date: 2026-11-26 18:00:00

Any change made the stored states stale, so under the office hours' write rate the lists
computed the states live most of the time anyway; bench/bench_stored_states.py measured no
clear gain (README, Benchmarks). The downgrade creates the empty tables again: revision
0008's code stores them at its scheduler's next run.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0010_drop_stored_states'
down_revision = '0009_audit_changes_records'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_table('stored_state_marks')
    op.drop_table('stored_states')


def downgrade():
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
