"""import jobs: each import of a file is a row (queued for the scheduler when large, with its
progress), and the agreements it created point back to it

Revision ID: 0018_import_jobs
Revises: 0017_audit_anchors
Create Date: 2026-12-01 23:40:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0018_import_jobs'
down_revision = '0017_audit_anchors'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'imports',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=True),
        sa.Column('dry_run', sa.Boolean(), nullable=False),
        sa.Column('org_unit_id', sa.Integer(), nullable=True),
        sa.Column('restrict_unit', sa.Boolean(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('rows_checked', sa.Integer(), nullable=False),
        sa.Column('rows', sa.Integer(), nullable=False),
        sa.Column('created', sa.Integer(), nullable=False),
        sa.Column('skipped', sa.Integer(), nullable=False),
        sa.Column('report', sa.Text(), nullable=True),
        sa.Column('message', sa.Text(), nullable=True),
        sa.Column('queued_at', sa.DateTime(), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=True),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.Column('heartbeat_at', sa.DateTime(), nullable=True),
        sa.Column('claimed_by', sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(['org_unit_id'], ['org_units.id'],
                                name=op.f('fk_imports_org_unit_id_org_units')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_imports_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_imports')),
    )
    op.create_index('ix_imports_status', 'imports', ['status', 'id'])
    with op.batch_alter_table('agreements') as batch:
        batch.add_column(sa.Column('import_id', sa.Integer(), nullable=True))
        batch.create_foreign_key('fk_agreements_import_id_imports', 'imports',
                                 ['import_id'], ['id'])


def downgrade():
    with op.batch_alter_table('agreements') as batch:
        batch.drop_constraint('fk_agreements_import_id_imports', type_='foreignkey')
        batch.drop_column('import_id')
    op.drop_index('ix_imports_status', table_name='imports')
    op.drop_table('imports')
