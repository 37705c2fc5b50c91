"""Browsing the audit trail: filters and pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Select, func, select

from clause_tracker.audit.models import AuditEvent
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
