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
