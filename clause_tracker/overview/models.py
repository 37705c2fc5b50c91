"""Stored overview figures (see snapshots.py for why they cannot disagree with the records)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
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


class EccarNarrative(Model):
    """What the steering group writes for one section of the ECCAR report of one period;
    kept with the report (the same period gives the same text), every change audited."""

    __tablename__ = "eccar_narratives"
    __table_args__ = (UniqueConstraint("period_start", "period_end", "section"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period_start: Mapped[date]
    period_end: Mapped[date]
    section: Mapped[str] = mapped_column(String(30))  # narratives.SECTIONS
    text: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
