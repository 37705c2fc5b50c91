from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column

from clause_tracker.extensions import Model


class AuditEvent(Model):
    """One change, append-only. `id` is the position in the hash chain (no gaps allowed).

    The database refuses UPDATE and DELETE on this table (triggers in the migration);
    the hash chain shows any change made around that.
    """

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    occurred_at: Mapped[datetime] = mapped_column(index=True)  # naive UTC
    actor_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor_name: Mapped[str] = mapped_column(String(120))
    actor_role: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(80), index=True)
    object_type: Mapped[str] = mapped_column(String(60))
    object_id: Mapped[str | None] = mapped_column(String(80))
    summary: Mapped[str] = mapped_column(String(500))
    details: Mapped[str] = mapped_column(Text)  # canonical JSON, hashed as stored
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    # False for events that change no record the figures and states are computed from
    # (signing in, a recorded check of the chain): audit.services.newest_change skips them.
    changes_records: Mapped[bool] = mapped_column(default=True, server_default=true())

    __table_args__ = (Index("ix_audit_events_object", "object_type", "object_id"),)


class AuditPersonal(Model):
    """The personal part of one audit event (names, e-mail addresses, notes, findings, file
    names, case references), kept out of the chained content so that retention can erase it.

    The event's chained `details` carry `"personal": HMAC-SHA256(salt, content)`; erasing
    sets `content` and `salt` to NULL (and notes when and why), which leaves the chain as it
    was and the erased values unrecoverable: without the salt the digest cannot be tested
    against guessed names. The database refuses DELETE and any UPDATE but that erasure.
    `subject` is what erasure is keyed by ("Agreement:12", "ContactPerson:3").
    """

    __tablename__ = "audit_personal"

    # The event's id, no foreign key: the trail's tables are refused TRUNCATE each on its
    # own (a key would make TRUNCATE audit_events fail for the key, not the trigger).
    event_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    subject: Mapped[str] = mapped_column(String(80), index=True)
    salt: Mapped[str | None] = mapped_column(String(64))
    content: Mapped[str | None] = mapped_column(Text)  # canonical JSON
    erased_at: Mapped[datetime | None]
    erased_by: Mapped[str | None] = mapped_column(String(40))  # e.g. "retention"


class AuditRedaction(Model):
    """An event written before migration 0019 whose chained content holds personal data:
    `sha256` pins the one form it may be redacted to (every column of the row, the personal
    values replaced by the erasure mark, its hash unchanged). The pins were fixed by that
    migration and committed to by a chained `audit.redactions_pinned` event, so `audit
    verify` accepts exactly this redacted form and nothing else. `redacted_at` is set when
    retention applied it."""

    __tablename__ = "audit_redactions"

    # The event's id, no foreign key: the trail's tables are refused TRUNCATE each on its
    # own (a key would make TRUNCATE audit_events fail for the key, not the trigger).
    event_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    subject: Mapped[str] = mapped_column(String(80), index=True)
    summary: Mapped[str] = mapped_column(String(500))  # the redacted form, no personal data
    details: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    redacted_at: Mapped[datetime | None]
