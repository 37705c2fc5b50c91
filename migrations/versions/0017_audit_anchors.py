"""audit anchors: TRUNCATE of the audit trail refused; prepared e-mails in the outbox

PostgreSQL: a statement-level BEFORE TRUNCATE trigger refuses TRUNCATE audit_events (the row
triggers of 0001 refuse UPDATE and DELETE; SQLite has no TRUNCATE, its DELETE trigger stays).
The outbox gets `prepared` messages, written whole when queued (the nightly check's anchor
for the audit office) beside the daily reminder message of the same recipient.

Revision ID: 0017_audit_anchors
Revises: 0016_auth_sessions
Create Date: 2026-12-01 23:30:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0017_audit_anchors'
down_revision = '0016_auth_sessions'
branch_labels = None
depends_on = None

# audit_events_append_only() (0001) raises 'audit_events is append-only'.
NO_TRUNCATE = """CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()"""


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(NO_TRUNCATE)
    with op.batch_alter_table('outbox_messages') as batch:
        batch.add_column(sa.Column('prepared', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.drop_constraint('uq_outbox_messages_recipient_day', type_='unique')
        batch.create_unique_constraint('uq_outbox_messages_recipient_day',
                                       ['recipient', 'day', 'prepared'])


def downgrade():
    op.execute(sa.text("DELETE FROM outbox_messages WHERE prepared"))
    with op.batch_alter_table('outbox_messages') as batch:
        batch.drop_constraint('uq_outbox_messages_recipient_day', type_='unique')
        batch.create_unique_constraint('uq_outbox_messages_recipient_day',
                                       ['recipient', 'day'])
        batch.drop_column('prepared')
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events")
