"""audit events: changes_records, the caller's word that an event changes records

Revision ID: 0009_audit_changes_records
Revises: 0008_stored_states
Create Date: 2026-11-26 10:00:00

audit.services.newest_change() skips events recorded with changes_records=False (signing in,
a recorded check of the chain), so they leave the stored figures and states current. The
events written before are set from their action, as the hard-coded list did before; their
hashes do not cover the flag, and verify_chain checks their flag against this same list
(audit.services.FLAGGED_BY_MIGRATION). The append-only triggers are lifted for that one
UPDATE only.

Downgrading drops the column: events written since then were hashed with it, so the chain
no longer verifies with the code of revision 0008.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0009_audit_changes_records'
down_revision = '0008_stored_states'
branch_labels = None
depends_on = None

# Frozen here: what "changes no record" meant before the flag existed.
NEUTRAL_ACTIONS = ("auth.login", "auth.logout", "auth.login_failed",
                   "auth.login_refused_locked", "auth.locked", "audit.verified")

SQLITE_TRIGGERS = [
    """CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
    BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END""",
    """CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
    BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END""",
]


def _without_append_only(statement):
    """Run `statement` with the append-only triggers of migration 0001 lifted."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
        op.execute(statement)
        op.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only")
    else:
        _drop_sqlite_triggers()
        op.execute(statement)
        _create_sqlite_triggers()


def _drop_sqlite_triggers():
    op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
    op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")


def _create_sqlite_triggers():
    for trigger in SQLITE_TRIGGERS:
        op.execute(trigger)


def upgrade():
    # A plain ADD COLUMN on both (no table copy on SQLite, instant on PostgreSQL).
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('changes_records', sa.Boolean(), nullable=False,
                                      server_default=sa.true()))
    events = sa.table('audit_events', sa.column('action', sa.String),
                      sa.column('changes_records', sa.Boolean))
    _without_append_only(events.update()
                         .where(events.c.action.in_(NEUTRAL_ACTIONS))
                         .values(changes_records=False))


def downgrade():
    # SQLite copies the table to drop a column, and the copy has no triggers.
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_column('changes_records')
    if op.get_bind().dialect.name != "postgresql":
        _drop_sqlite_triggers()
        _create_sqlite_triggers()
