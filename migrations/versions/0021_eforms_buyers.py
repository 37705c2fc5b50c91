"""eForms buyers: which organisational unit a notice's buyer is (a table administrators
keep), and the currency of an agreement's value when it is not euros

Revision ID: 0021_eforms_buyers
Revises: 0019_audit_personal
Create Date: 2026-12-07 19:40:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0021_eforms_buyers'
down_revision = '0020_api_tokens'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'eforms_buyers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('company_id', sa.String(length=80), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('org_unit_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('version_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['org_unit_id'], ['org_units.id'],
                                name=op.f('fk_eforms_buyers_org_unit_id_org_units')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_eforms_buyers')),
        sa.UniqueConstraint('company_id', 'name', name=op.f('uq_eforms_buyers_company_id')),
    )
    with op.batch_alter_table('agreements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('currency', sa.String(length=3), nullable=True))


def downgrade():
    with op.batch_alter_table('agreements', schema=None) as batch_op:
        batch_op.drop_column('currency')
    op.drop_table('eforms_buyers')
