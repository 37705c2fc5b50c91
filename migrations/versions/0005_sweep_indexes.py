"""sweep indexes: drop ix_compliance_checks_agreement_stage

Revision ID: 0005_sweep_indexes
Revises: 0004_compliance_checks
Create Date: 2026-11-25 14:05:00

The (agreement_id, stage) index duplicated the leading column of the unique
(agreement_id, trigger, occasion) index: every query by agreement filters the stage with
`!=` or after the agreement (checks_hook, services, overview), which the unique index
serves as well (checked with EXPLAIN on PostgreSQL). It cost a fourth index write for each
check inserted by the sweep and for each stage change (an UPDATE of an indexed column
writes every index of the row).
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0005_sweep_indexes'
down_revision = '0004_compliance_checks'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('compliance_checks', schema=None) as batch_op:
        batch_op.drop_index('ix_compliance_checks_agreement_stage')


def downgrade():
    with op.batch_alter_table('compliance_checks', schema=None) as batch_op:
        batch_op.create_index('ix_compliance_checks_agreement_stage', ['agreement_id', 'stage'],
                              unique=False)
