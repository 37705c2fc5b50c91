"""Every agreement's compliance state, stored for the registry's lists.

Filtering 120,000 agreements by their state means computing it for all of them (the rules in
state.py read every declaration, check and measure): about 0.3 s a page. The scheduler
therefore stores each agreement's state and reason, computed by those very rules, after
every change. Why a stored state can never disagree with the records: the rows are written
in ONE transaction with their mark — the day, the newest record-changing audit event (id and
hash, audit.services.newest_change) and a fingerprint of the rules' SQL — and lists read
them only while the current day, newest event and rules equal the mark. Every change is
written with its audit event (the newest event then moves on), and events are appended in
commit order, so rows marked with event M were computed from the records exactly as of M
whenever M is still the newest. Otherwise lists compute the state live, as before.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from functools import lru_cache

from sqlalchemy import String, delete, select, text
from sqlalchemy.orm import Mapped, mapped_column

from clause_tracker.agreements.models import Agreement
from clause_tracker.audit.services import newest_change
from clause_tracker.clock import utcnow
from clause_tracker.compliance.state import ComplianceColumns, compliance_columns
from clause_tracker.extensions import Model, db


class StoredState(Model):
    """One agreement's state and reason as of the mark (no foreign key: rewritten whole)."""

    __tablename__ = "stored_states"

    agreement_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    state: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(40))


class StoredStateMark(Model):
    """What the stored states were computed from (one row)."""

    __tablename__ = "stored_state_marks"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    day: Mapped[date]
    audit_event_id: Mapped[int]
    audit_hash: Mapped[str] = mapped_column(String(64))
    rules: Mapped[str] = mapped_column(String(64))
    refreshed_at: Mapped[datetime]


@lru_cache(maxsize=4)
def rules_fingerprint(dialect_name: str) -> str:
    """The rules as SQL: a release that changes them makes every stored state stale."""
    columns = compliance_columns(date(2000, 1, 1))
    dialect = db.engine.dialect
    sql = f"{columns.state.compile(dialect=dialect)}|{columns.reason.compile(dialect=dialect)}"
    return hashlib.sha256(f"{dialect_name}|{sql}".encode()).hexdigest()


def _mark(day: date) -> tuple | None:
    """What the states of `day` are a function of now; None before any record exists."""
    newest = newest_change()
    if newest is None:
        return None
    return (day, newest[0], newest[1], rules_fingerprint(db.engine.dialect.name))


def _stored_mark() -> tuple | None:
    stored = db.session.get(StoredStateMark, 1)
    if stored is None:
        return None
    return (stored.day, stored.audit_event_id, stored.audit_hash, stored.rules)


def current(day: date) -> bool:
    """True while the stored states are those of the records as they are now."""
    mark = _mark(day)
    return mark is not None and mark == _stored_mark()


def list_columns(day: date) -> ComplianceColumns:
    """The state and reason for a list: stored while current, else computed (state.py)."""
    live = compliance_columns(day)
    if not current(day):
        return live
    # The rules come along for state_is: where the rules decide a state from the
    # agreement's own columns (exempt), that stays cheaper than a join.
    table = StoredState.__table__
    return ComplianceColumns(table, table.c.state, table.c.reason, live.rules, stored=True)


def refresh(day: date) -> bool:
    """Store every agreement's state on `day` unless current; True when it stored them."""
    db.session.rollback()  # a fresh transaction: the mark is read before the states
    mark = _mark(day)
    if mark is None or mark == _stored_mark():
        return False
    columns = compliance_columns(day)
    source = columns.join(select(Agreement.id, columns.state, columns.reason)
                          .select_from(Agreement))
    db.session.execute(delete(StoredState))
    db.session.execute(StoredState.__table__.insert().from_select(
        ["agreement_id", "state", "reason"], source))
    if db.engine.dialect.name == "postgresql":
        # Rewritten whole: without fresh statistics the planner expects a few rows and
        # probes the table once per agreement (0.4 s) instead of hashing it.
        db.session.execute(text(f"ANALYZE {StoredState.__tablename__}"))
    db.session.merge(StoredStateMark(id=1, day=mark[0], audit_event_id=mark[1],
                                     audit_hash=mark[2], rules=mark[3], refreshed_at=utcnow()))
    db.session.commit()
    return True
