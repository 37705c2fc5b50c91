"""The notification tables: reminder items and the outbox of e-mails that bundle them.

The sweep adds reminder ITEMS (unique per check, kind and recipient: a reminder is never
queued twice). The dispatcher bundles a recipient's open items into ONE message per day
and sends it; a message is claimed by a status transition in the database
(pending → sending), so two dispatchers never send the same message.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from clause_tracker.extensions import Model

# Reminder kinds
DUE, OVERDUE, ESCALATION = "due", "overdue", "escalation"
PLAN_OVERDUE, PLAN_ESCALATION = "plan_overdue", "plan_escalation"  # an action plan's deadline
KINDS = (DUE, OVERDUE, ESCALATION, PLAN_OVERDUE, PLAN_ESCALATION)

# Message states. `interrupted`: the process died during the SMTP dialogue; whether the
# mail went out is unknown, and it is sent again (at least once: the same Message-ID lets
# the recipient's client recognise a duplicate). `failed`: retried for MAIL_RETRY_DAYS
# after the first failure without success, then given up and shown to the administrators.
PENDING, SENDING, SENT, FAILED, INTERRUPTED = "pending", "sending", "sent", "failed", "interrupted"
MESSAGE_STATES = (PENDING, SENDING, SENT, FAILED, INTERRUPTED)


class Reminder(Model):
    __tablename__ = "compliance_reminders"

    id: Mapped[int] = mapped_column(primary_key=True)
    check_id: Mapped[int] = mapped_column(ForeignKey("compliance_checks.id"))
    kind: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str] = mapped_column(String(200))  # e-mail address
    locale: Mapped[str] = mapped_column(String(5), default="de")
    queued_on: Mapped[date]
    message_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_messages.id"))

    __table_args__ = (
        UniqueConstraint("check_id", "kind", "recipient", name="uq_compliance_reminders_item"),
        Index("ix_compliance_reminders_unbundled", "message_id", "recipient"),
    )


class OutboxMessage(Model):
    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(200))
    day: Mapped[date]  # one message per recipient and day
    locale: Mapped[str] = mapped_column(String(5), default="de")
    status: Mapped[str] = mapped_column(String(20), default=PENDING)
    subject: Mapped[str | None] = mapped_column(String(300))
    body: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime]
    # Retried until then (MAIL_RETRY_DAYS after the first failed attempt), then `failed`.
    deliver_by: Mapped[datetime | None]
    # Written whole when queued (subject and body), never bundled with reminders: the
    # nightly audit check's anchor for the audit office. Beside the recipient's daily
    # reminder message, one a day.
    prepared: Mapped[bool] = mapped_column(default=False, server_default=false())

    __table_args__ = (
        UniqueConstraint("recipient", "day", "prepared",
                         name="uq_outbox_messages_recipient_day"),
        Index("ix_outbox_messages_status_next", "status", "next_attempt_at"),
    )


class MailOutage(Model):
    """A time in which no e-mail went out while messages waited: one row per outage, so
    that the escalation address is told once, not at every dispatch."""

    __tablename__ = "mail_outages"

    id: Mapped[int] = mapped_column(primary_key=True)
    waiting_since: Mapped[datetime]  # the oldest message waiting when it was noticed
    detected_at: Mapped[datetime]
    alerted_at: Mapped[datetime | None]  # the e-mail to the escalation address went out
    ended_at: Mapped[datetime | None]  # mail went out again
