"""The daily sweep: expire declarations, schedule checks, mark due and overdue, queue the
reminders and escalations.

Each step is ONE transaction of set-based statements (no loop over agreements) and is
idempotent, so the sweep can run twice, or twice at once, and a crash between steps
loses nothing: the next run simply does the remaining work. What a step changed is
written to the audit trail in the same transaction.
"""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import partial

from flask import current_app
from sqlalchemy import Select, and_, exists, literal, select, text, update

from clause_tracker.agreements.models import CONTRACT, GRANT, Agreement
from clause_tracker.audit import messages
from clause_tracker.audit.models import AuditEvent
from clause_tracker.audit.services import (
    GENESIS,
    SYSTEM,
    TIMESTAMP_FORMAT,
    content_hash,
    details_json,
    record,
)
from clause_tracker.auth.models import User
from clause_tracker.checks import outbox
from clause_tracker.checks.models import (
    APPROVED,
    DUE,
    OVERDUE,
    SCHEDULED,
    ComplianceCheck,
    Measure,
    Sweep,
)
from clause_tracker.checks.settings import Settings, settings
from clause_tracker.checks.triggers import TRIGGER_QUERIES, Context, schedule
from clause_tracker.clock import utcnow
from clause_tracker.declarations.lifecycle import TRANSITIONS
from clause_tracker.declarations.models import Declaration
from clause_tracker.extensions import db
from clause_tracker.locks import Lock, hold_for_transaction
from clause_tracker.orgunits.models import OrgUnit
from clause_tracker.permissions import roles_for
from clause_tracker.sql import dialect_insert, insert_rows

log = logging.getLogger(__name__)

# Which roles work on which kind (from THE permission map, not a second list).
EXPIRE_FROM = tuple(sorted(src for (src, action) in TRANSITIONS if action == "expire"))


@dataclass
class SweepReport:
    sweep_id: int
    run_on: date
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _pause() -> None:
    # Only the crash tests set this: it widens the window between steps.
    seconds = float(current_app.config.get("SWEEP_STEP_PAUSE_SECONDS") or 0)
    if seconds:
        time.sleep(seconds)


def run(today: date | None = None, progress: Callable[[str, int], None] | None = None
        ) -> SweepReport:
    """One complete sweep. Safe to interrupt at any point and to run concurrently."""
    day = today or utcnow().date()
    cfg = settings()
    sweep = Sweep(run_on=day, started_at=utcnow(), host=f"{socket.gethostname()}")
    db.session.add(sweep)
    db.session.commit()
    report = SweepReport(sweep.id, day)
    ctx = Context(day, sweep.id, cfg)

    def step(name: str, work: Callable[[], int]) -> None:
        try:
            _lock_step()
            changed = work()
            if changed:
                record("compliance.sweep", "Sweep", sweep.id,
                       f"sweep {sweep.id} ({day}): {name}: {changed}",
                       {"step": name, "rows": changed, "run_on": str(day)}, actor=SYSTEM)
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
        report.counts[name] = changed
        log.info("sweep %s step %s: %s", sweep.id, name, changed)
        if progress:
            progress(name, changed)
        _pause()

    step("expire_declarations", lambda: expire_declarations(day))
    for name, query in TRIGGER_QUERIES:
        step(f"schedule_{name}", partial(_schedule, name, query, ctx))
    step("mark_overdue", lambda: mark_overdue(day, cfg))
    step("mark_plans_overdue", lambda: mark_plans_overdue(day, cfg))
    step("mark_due", lambda: mark_due(day))

    sweep.finished_at = utcnow()
    sweep.counts = json.dumps(report.counts, sort_keys=True)
    db.session.commit()
    return report


def _lock_step() -> None:
    """PostgreSQL: one sweep step at a time, across processes, until the step commits. A
    second sweep running at the same moment waits, then its statements see the rows the
    first one committed and insert nothing twice. (SQLite serialises its writers itself;
    the unique keys stay the last word on both.)"""
    hold_for_transaction(Lock.SWEEP_STEP)


# Inserted checks from which the planner's row counts are refreshed before the reminder
# joins (autovacuum analyzes only later, after 10 % of the table changed and a nap).
ANALYZE_AFTER_ROWS = 1000


def _refresh_statistics(inserted: int) -> None:
    """PostgreSQL: ANALYZE the checks after a step inserted many (in the step's transaction:
    ANALYZE counts the transaction's own new rows). With the counts of an empty table the
    planner chose nested loops per check for the reminder SELECTs (100,000 checks: 0.4 s
    instead of a hash join). Statistics only: no audited fact changes."""
    if inserted < ANALYZE_AFTER_ROWS or db.session.get_bind().dialect.name != "postgresql":
        return
    db.session.execute(text(f"ANALYZE {ComplianceCheck.__tablename__}"))


def _schedule(name: str, query: Callable[[Context], Select | None], ctx: Context) -> int:
    """One trigger's checks, and the reminders of those inserted as due — in ONE
    transaction, so a check is never due without its reminder queued (a crash loses both,
    and the next sweep inserts and queues them again)."""
    rows = query(ctx)
    if rows is None:
        return 0
    inserted = db.session.execute(schedule(rows, ctx)).rowcount or 0  # type: ignore[attr-defined]  # DML: a CursorResult
    if inserted:
        _refresh_statistics(inserted)
        check = ComplianceCheck
        _queue(_officer_reminders(outbox.DUE, and_(
            check.sweep_id == ctx.sweep_id, check.trigger == name, check.stage == DUE),
            ctx.today))
    return inserted


def expire_declarations(day: date) -> int:
    """Accepted declarations past `valid_until` → expired, by the transition table, each
    with its own audit event. Set-based: one UPDATE … RETURNING per source state (it locks,
    changes and reports the rows in one statement; rows a concurrent sweep holds are
    skipped, it expires them itself), the audit events appended as one batch of the chain."""
    table, agreements = Declaration.__table__, Agreement.__table__
    postgres = db.session.get_bind().dialect.name == "postgresql"
    returned = (table.c.id, table.c.agreement_id, table.c.party, table.c.valid_until)
    now = utcnow()
    rows = []
    for source in EXPIRE_FROM:
        # SKIP LOCKED in the subquery: a second sweep at the same time neither waits for
        # nor re-expires the rows the first one is changing.
        claimed = (select(table.c.id)
                   .where(table.c.state == source, table.c.valid_until < day)
                   .with_for_update(skip_locked=True))
        stmt = (update(table).where(table.c.id.in_(claimed.scalar_subquery()))
                .values(state=TRANSITIONS[(source, "expire")], updated_at=now,
                        version_id=table.c.version_id + 1))
        if postgres:
            stmt = stmt.where(agreements.c.id == table.c.agreement_id).returning(
                *returned, agreements.c.reference)
        else:
            # SQLite's RETURNING may not name the tables of UPDATE … FROM.
            stmt = stmt.returning(*returned, select(agreements.c.reference).where(
                agreements.c.id == table.c.agreement_id).scalar_subquery().label("reference"))
        rows += [(source, row) for row in db.session.execute(stmt)]
    if not rows:
        return 0
    rows.sort(key=lambda item: item[1].id)  # the chain in declaration order, as before
    record_many([(
        "declaration.expire", "Declaration", r.id,
        f"{r.reference}: declaration {source} → {TRANSITIONS[(source, 'expire')]} "
        f"(valid until {r.valid_until})",
        {"agreement_id": r.agreement_id, "reference": r.reference, "party": r.party,
         "from": source,
         "to": TRANSITIONS[(source, "expire")], "valid_until": str(r.valid_until),
         "by": "sweep"}) for source, r in rows])
    return len(rows)


def record_many(events: list[tuple[str, str, object, str, dict]]) -> None:
    """Append many system events to the audit chain in one go: the same rows and hashes
    `audit.services.record` would write one by one, without a query per event."""

    if not events:
        return
    record(*events[0], actor=SYSTEM)  # takes the chain lock and anchors the batch
    last = db.session.execute(select(AuditEvent.id, AuditEvent.hash)
                              .order_by(AuditEvent.id.desc()).limit(1)).one()
    next_id, prev = last.id + 1, last.hash or GENESIS
    # One timestamp for the batch (it is one transaction), formatted once: per-event
    # objects, clocks and strftime were most of the cost at 25,000 events.
    occurred_at = utcnow()
    stamp = occurred_at.strftime(TIMESTAMP_FORMAT)
    actor_name, actor_role = SYSTEM.name, SYSTEM.role
    rows: list[tuple] = []
    for action, object_type, object_id, summary, details in events[1:]:
        ident, text_ = str(object_id), summary[:500]
        body = details_json(messages.stamp(action, details, None, summary))
        digest = content_hash([next_id, stamp, None, actor_name, actor_role, action,
                               object_type, ident, text_, body, prev, True])
        # In the order of the table's columns (asserted in _AUDIT_COLUMNS below).
        rows.append((next_id, occurred_at, None, actor_name, actor_role, action, object_type,
                     ident, text_, body, prev, digest, True))
        next_id, prev = next_id + 1, digest
    columns = [c.key for c in AuditEvent.__table__.c]
    assert columns == _AUDIT_COLUMNS, columns
    insert_rows(AuditEvent.__table__, columns, rows)


_AUDIT_COLUMNS = ["id", "occurred_at", "actor_id", "actor_name", "actor_role", "action",
                  "object_type", "object_id", "summary", "details", "prev_hash", "hash",
                  "changes_records"]


# --- reminders -------------------------------------------------------------------------------

def _officer_reminders(kind: str, stage_condition, day: date):
    """(check, kind, recipient, locale, day) rows: the assigned officer, or — unassigned —
    the unit's officers who work on the agreement's kind.

    Two SELECTs joined by UNION ALL (the two cases are disjoint: assigned or not), each
    joining users on plain equalities; one join ON "assigned OR same unit and kind" left
    PostgreSQL only a nested loop over every check and user."""
    check = ComplianceCheck
    reachable = (User.active.is_(True), User.email.is_not(None), User.email != "")

    def rows(*on):
        return (
            select(check.id, literal(kind), User.email, db.func.coalesce(User.locale, "de"),
                   literal(day))
            .select_from(check)
            .join(Agreement, Agreement.id == check.agreement_id)
            .join(User, and_(*on))
            .where(stage_condition, *reachable)
        )

    assigned = rows(User.id == check.assigned_to_id)
    unassigned = [rows(check.assigned_to_id.is_(None), User.org_unit_id == Agreement.org_unit_id,
                       Agreement.kind == kind_, User.role.in_(roles_for(kind_)))
                  for kind_ in (CONTRACT, GRANT)]
    return assigned.union_all(*unassigned)


def _queue(rows) -> int:
    r = outbox.Reminder
    stmt = dialect_insert(r).from_select(
        ["check_id", "kind", "recipient", "locale", "queued_on"], rows).on_conflict_do_nothing()
    return db.session.execute(stmt).rowcount or 0  # type: ignore[attr-defined]  # DML: a CursorResult


def _escalations(cfg: Settings, condition, day: date, kind: str = outbox.ESCALATION) -> int:
    """Overdue checks (or checks whose action plan is overdue) to the unit's head and to the
    further configured addresses (few addresses: one set-based INSERT each)."""
    check = ComplianceCheck
    queued = 0
    units = dict(db.session.execute(select(OrgUnit.code, OrgUnit.id)).tuples().all())
    targets: list[tuple[str, int | None]] = [
        (address, units[code]) for code, address in cfg.unit_heads if code in units]
    targets += [(address, None) for address in cfg.escalation_emails]
    for address, unit_id in targets:
        rows = (select(check.id, literal(kind), literal(address), literal("de"),
                       literal(day))
                .select_from(check).join(Agreement, Agreement.id == check.agreement_id)
                .where(condition))
        if unit_id is not None:
            rows = rows.where(Agreement.org_unit_id == unit_id)
        queued += _queue(rows)
    return queued


def _none(condition) -> bool:
    """True when no check meets `condition`: one indexed EXISTS lets a sweep with nothing
    to mark skip the reminder joins and escalation INSERTs (most days are such days)."""
    return not db.session.scalar(select(exists().where(condition)))


def mark_overdue(day: date, cfg: Settings) -> int:
    check = ComplianceCheck
    becoming = and_(check.stage.in_((SCHEDULED, DUE)), check.deadline < day)
    if _none(becoming):
        return 0
    _queue(_officer_reminders(outbox.OVERDUE, becoming, day))
    _escalations(cfg, becoming, day)
    result = db.session.execute(update(check).where(becoming).values(
        stage=OVERDUE, escalated_at=utcnow(), version_id=check.version_id + 1))
    return result.rowcount or 0  # type: ignore[attr-defined]  # DML: a CursorResult


def mark_plans_overdue(day: date, cfg: Settings) -> int:
    """Approved action plans past their deadline without a completion: reminded to the
    check's officers and escalated like an overdue check, once (escalated_at)."""
    becoming = and_(Measure.kind == "action_plan", Measure.state == APPROVED,
                    Measure.completion.is_(None), Measure.deadline < day,
                    Measure.escalated_at.is_(None))
    if not db.session.scalar(select(exists().where(becoming))):
        return 0
    of_check = ComplianceCheck.id.in_(select(Measure.check_id).where(becoming))
    _queue(_officer_reminders(outbox.PLAN_OVERDUE, of_check, day))
    _escalations(cfg, of_check, day, outbox.PLAN_ESCALATION)
    result = db.session.execute(update(Measure).where(becoming).values(
        escalated_at=utcnow(), version_id=Measure.version_id + 1))
    return result.rowcount or 0  # type: ignore[attr-defined]  # DML: a CursorResult


def mark_due(day: date) -> int:
    check = ComplianceCheck
    becoming = and_(check.stage == SCHEDULED, check.due_on <= day)
    if _none(becoming):
        return 0
    _queue(_officer_reminders(outbox.DUE, becoming, day))
    result = db.session.execute(update(check).where(becoming).values(
        stage=DUE, version_id=check.version_id + 1))
    return result.rowcount or 0  # type: ignore[attr-defined]  # DML: a CursorResult
