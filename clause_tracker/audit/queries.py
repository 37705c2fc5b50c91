"""Browsing the audit trail: filters and pages."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, func, select

from clause_tracker.audit.models import AuditEvent, AuditPersonal, AuditRedaction
from clause_tracker.extensions import db
from clause_tracker.pagination import clamp, page_count

PAGE_SIZE = 50


@dataclass(frozen=True)
class EventFilter:
    action: str | None = None
    actor: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    since: date | None = None
    until: date | None = None

    def apply(self, stmt: Select) -> Select:
        if self.action:
            stmt = stmt.where(AuditEvent.action.startswith(self.action))
        if self.actor:
            stmt = stmt.where(AuditEvent.actor_name == self.actor)
        if self.object_type:
            stmt = stmt.where(AuditEvent.object_type == self.object_type)
        if self.object_id:
            stmt = stmt.where(AuditEvent.object_id == self.object_id)
        if self.since:
            stmt = stmt.where(AuditEvent.occurred_at >= datetime.combine(self.since, time()))
        if self.until:
            end = datetime.combine(self.until + timedelta(days=1), time())
            stmt = stmt.where(AuditEvent.occurred_at < end)
        return stmt


@dataclass(frozen=True)
class Page:
    events: list[AuditEvent]
    number: int
    total: int

    @property
    def pages(self) -> int:
        return page_count(self.total, PAGE_SIZE)


def events_page(filters: EventFilter, number: int = 1) -> Page:
    total = db.session.scalar(filters.apply(select(func.count()).select_from(AuditEvent))) or 0
    number = clamp(number, total, PAGE_SIZE)
    stmt = filters.apply(select(AuditEvent)).order_by(AuditEvent.id.desc())
    events = list(db.session.scalars(stmt.limit(PAGE_SIZE).offset((number - 1) * PAGE_SIZE)))
    return Page(events, number, total)


def distinct_values(column) -> list[str]:
    return list(db.session.scalars(select(column).distinct().order_by(column)))


@dataclass(frozen=True)
class PersonalPart:
    """What the pages show beside an event's summary: its personal values, or when and by
    what they were erased."""

    values: dict[str, Any] | None
    erased_at: datetime | None = None
    erased_by: str | None = None


def personal_parts(events: Iterable[AuditEvent]) -> dict[int, PersonalPart]:
    """The personal parts of `events` by event id (only events that have one)."""
    ids = [event.id for event in events]
    if not ids:
        return {}
    parts: dict[int, PersonalPart] = {}
    for chunk in range(0, len(ids), 500):
        part_ids = ids[chunk:chunk + 500]
        for row in db.session.scalars(select(AuditPersonal)
                                      .where(AuditPersonal.event_id.in_(part_ids))):
            parts[row.event_id] = PersonalPart(
                json.loads(row.content) if row.content is not None else None,
                row.erased_at, row.erased_by)
        for pin in db.session.scalars(select(AuditRedaction).where(
                AuditRedaction.event_id.in_(part_ids), AuditRedaction.redacted_at.is_not(None))):
            parts[pin.event_id] = PersonalPart(None, pin.redacted_at, "retention")
    return parts
