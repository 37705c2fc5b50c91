"""list indexes: agreements by last change and by decision date

Revision ID: 0007_list_indexes
Revises: 0006_overview_snapshots
Create Date: 2026-11-25 15:40:00

The registry list shows the newest changes first: with an index on updated_at its 25 rows
are read in index order instead of sorting every matching agreement. Periods and quarters
(overview drill-downs, the ECCAR report) filter by decided_on.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0007_list_indexes'
down_revision = '0006_overview_snapshots'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('agreements', schema=None) as batch_op:
        batch_op.create_index('ix_agreements_updated_at', ['updated_at', 'id'], unique=False)
        batch_op.create_index('ix_agreements_decided_on', ['decided_on'], unique=False)


def downgrade():
    with op.batch_alter_table('agreements', schema=None) as batch_op:
        batch_op.drop_index('ix_agreements_decided_on')
        batch_op.drop_index('ix_agreements_updated_at')
