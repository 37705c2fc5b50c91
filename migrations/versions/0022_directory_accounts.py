"""directory accounts: users signed in through the city's directory (LDAP)

`directory_dn`: the entry an account belongs to (NULL: a local account with its own
password, never touched by the directory); `directory_synced_at`: when the directory last
said who the person is; `directory_deactivated`: the account was deactivated because the
directory said so (gone, disabled, in no mapped group), and comes back when it says
otherwise — an administrator's deactivation stays.

Revision ID: 0022_directory_accounts
Revises: 0019_audit_personal
Create Date: 2026-12-07 19:30:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0022_directory_accounts'
down_revision = '0021_eforms_buyers'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('directory_dn', sa.String(length=500), nullable=True))
        batch.add_column(sa.Column('directory_synced_at', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('directory_deactivated', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('users') as batch:
        for column in ('directory_deactivated', 'directory_synced_at', 'directory_dn'):
            batch.drop_column(column)
