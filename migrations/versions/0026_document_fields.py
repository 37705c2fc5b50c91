"""document fields: each unit's name and address on documents; a grant's kind and method of
funding and the authority (and its address) that takes an objection; the narrative texts of
the ECCAR report, per period and section

Revision ID: 0026_document_fields
Revises: 0019_audit_personal
Create Date: 2026-12-07 19:30:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0026_document_fields'
down_revision = '0025_mail_delivery'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('org_units') as batch:
        batch.add_column(sa.Column('document_name', sa.String(200), nullable=True))
        batch.add_column(sa.Column('address', sa.Text(), nullable=True))
    with op.batch_alter_table('agreements') as batch:
        batch.add_column(sa.Column('funding_kind', sa.String(20), nullable=True))
        batch.add_column(sa.Column('funding_method', sa.String(20), nullable=True))
        batch.add_column(sa.Column('remedy_authority', sa.String(200), nullable=True))
        batch.add_column(sa.Column('remedy_address', sa.Text(), nullable=True))
    op.create_table(
        'eccar_narratives',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('period_start', sa.Date(), nullable=False),
        sa.Column('period_end', sa.Date(), nullable=False),
        sa.Column('section', sa.String(30), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'],
                                name=op.f('fk_eccar_narratives_updated_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_eccar_narratives')),
        sa.UniqueConstraint('period_start', 'period_end', 'section',
                            name=op.f('uq_eccar_narratives_period_start')),
    )


def downgrade():
    op.drop_table('eccar_narratives')
    with op.batch_alter_table('agreements') as batch:
        batch.drop_column('remedy_address')
        batch.drop_column('remedy_authority')
        batch.drop_column('funding_method')
        batch.drop_column('funding_kind')
    with op.batch_alter_table('org_units') as batch:
        batch.drop_column('address')
        batch.drop_column('document_name')
