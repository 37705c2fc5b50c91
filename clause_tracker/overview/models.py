"""Stored overview figures (see snapshots.py for why they cannot disagree with the records)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from clause_tracker.extensions import Model


class OverviewSnapshot(Model):
    """The figures of one scope and period on one day, as of one audit event."""

    __tablename__ = "overview_snapshots"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the key
    unit_id: Mapped[int | None]  # the scope; no foreign key: a cache row never blocks a unit
    day: Mapped[date] = mapped_column(index=True)
    audit_event_id: Mapped[int]
    computed_at: Mapped[datetime]
    seconds: Mapped[float]  # what computing it took (shown to admins, kept for tuning)
    figures: Mapped[str] = mapped_column(Text)  # JSON, see snapshots.encode
