"""overview snapshots: the overview's figures stored per scope, period, day and audit event

Revision ID: 0006_overview_snapshots
Revises: 0005_sweep_indexes
Create Date: 2026-11-25 15:40:00

A cache in the database, shared by every web worker and filled ahead of time by the
scheduler; a row is only ever read for exactly the key it was computed for.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0006_overview_snapshots'
down_revision = '0005_sweep_indexes'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'overview_snapshots',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=True),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('audit_event_id', sa.Integer(), nullable=False),
        sa.Column('computed_at', sa.DateTime(), nullable=False),
        sa.Column('seconds', sa.Float(), nullable=False),
        sa.Column('figures', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_overview_snapshots')),
    )
    with op.batch_alter_table('overview_snapshots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_overview_snapshots_day'), ['day'], unique=False)


def downgrade():
    with op.batch_alter_table('overview_snapshots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_overview_snapshots_day'))
    op.drop_table('overview_snapshots')
