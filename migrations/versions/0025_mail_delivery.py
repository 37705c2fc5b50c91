"""mail delivered at least once: outbox messages are retried until `deliver_by`, and each
outage of the mail server is a row (the escalation address is told once per outage)

Messages that had become `failed` after a few hours or `interrupted` are queued again: they
are retried now and given up only MAIL_RETRY_DAYS after their next failure.

Revision ID: 0025_mail_delivery
Revises: 0024_stored_files
Create Date: 2026-12-07 20:10:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0025_mail_delivery'
down_revision = '0024_stored_files'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_messages') as batch:
        batch.add_column(sa.Column('deliver_by', sa.DateTime(), nullable=True))
    op.create_table(
        'mail_outages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('waiting_since', sa.DateTime(), nullable=False),
        sa.Column('detected_at', sa.DateTime(), nullable=False),
        sa.Column('alerted_at', sa.DateTime(), nullable=True),
        sa.Column('ended_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_outages')),
    )
    op.execute("UPDATE outbox_messages SET status = 'pending' "
               "WHERE status IN ('failed', 'interrupted')")


def downgrade():
    op.drop_table('mail_outages')
    with op.batch_alter_table('outbox_messages') as batch:
        batch.drop_column('deliver_by')
