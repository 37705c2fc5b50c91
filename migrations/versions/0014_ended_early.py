"""ended early, and VAT: a termination or revocation keeps its reason and the day it takes
effect; a contract records its VAT rate beside the net value (penalties are on the net)

Revision ID: 0014_ended_early
Revises: 0013_decision_basis
Create Date: 2026-12-01 22:30:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0014_ended_early'
down_revision = '0013_decision_basis'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('agreements') as batch:
        batch.add_column(sa.Column('end_reason', sa.Text(), nullable=True))
        batch.add_column(sa.Column('ended_on', sa.Date(), nullable=True))
        batch.add_column(sa.Column('vat_rate', sa.Numeric(5, 2), nullable=True))


def downgrade():
    with op.batch_alter_table('agreements') as batch:
        batch.drop_column('vat_rate')
        batch.drop_column('ended_on')
        batch.drop_column('end_reason')
