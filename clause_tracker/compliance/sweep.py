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

from flask import current_app
from sqlalchemy import and_, literal, or_, select, update

from clause_tracker.agreements.models import CONTRACT, GRANT, Agreement
from clause_tracker.audit.services import SYSTEM, record, utcnow
from clause_tracker.auth.models import User
from clause_tracker.auth.permissions import ROLE_PERMISSIONS, Permission
from clause_tracker.compliance import models as m
from clause_tracker.compliance import outbox
from clause_tracker.compliance.settings import Settings, settings
from clause_tracker.compliance.triggers import (
    TRIGGER_QUERIES,
    Context,
    dialect_insert,
    schedule,
)
from clause_tracker.declarations.lifecycle import TRANSITIONS
from clause_tracker.declarations.models import Declaration
from clause_tracker.extensions import db
from clause_tracker.orgunits.models import OrgUnit

log = logging.getLogger(__name__)

# Which roles work on which kind (from THE permission map, not a second list).
MANAGE = {CONTRACT: Permission.CONTRACTS_MANAGE, GRANT: Permission.GRANTS_MANAGE}
EXPIRE_FROM = tuple(sorted(src for (src, action) in TRANSITIONS if action == "expire"))
EXPIRE_BATCH = 500


def roles_for(kind: str) -> list[str]:
    return sorted(role.value for role, perms in ROLE_PERMISSIONS.items() if MANAGE[kind] in perms)


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
    sweep = m.Sweep(run_on=day, started_at=utcnow(), host=f"{socket.gethostname()}")
    db.session.add(sweep)
    db.session.commit()
    report = SweepReport(sweep.id, day)
    ctx = Context(day, sweep.id, cfg)

    def step(name: str, work: Callable[[], int]) -> None:
        try:
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
        step(f"schedule_{name}", lambda query=query: _schedule(query, ctx))
    step("mark_overdue", lambda: mark_overdue(day, cfg))
    step("mark_due", lambda: mark_due(day))

    sweep.finished_at = utcnow()
    sweep.counts = json.dumps(report.counts, sort_keys=True)
    db.session.commit()
    return report


def _schedule(query: Callable[[Context], object], ctx: Context) -> int:
    rows = query(ctx)
    if rows is None:
        return 0
    return db.session.execute(schedule(rows, ctx)).rowcount or 0


def expire_declarations(day: date) -> int:
    """Accepted declarations past `valid_until` → expired, through the transition table,
    each with its audit event (only the expiring few are loaded, in batches)."""
    expired = 0
    while True:
        batch = list(db.session.scalars(
            select(Declaration).where(Declaration.state.in_(EXPIRE_FROM),
                                      Declaration.valid_until < day)
            .order_by(Declaration.id).limit(EXPIRE_BATCH).with_for_update(skip_locked=True)))
        if not batch:
            return expired
        for decl in batch:
            old = decl.state
            decl.state = TRANSITIONS[(old, "expire")]
            decl.updated_at = utcnow()
            db.session.flush()
            record("declaration.expire", "Declaration", decl.id,
                   f"{decl.agreement.reference}: declaration {old} → {decl.state} "
                   f"(valid until {decl.valid_until})",
                   {"agreement_id": decl.agreement_id, "party": decl.party, "from": old,
                    "to": decl.state, "valid_until": str(decl.valid_until), "by": "sweep"},
                   actor=SYSTEM)
            expired += 1
        if len(batch) < EXPIRE_BATCH:
            return expired


# --- reminders -------------------------------------------------------------------------------

def _officer_reminders(kind: str, stage_condition, day: date):
    """(check, kind, recipient, locale, day) rows: the assigned officer, or — unassigned —
    the unit's officers who work on the agreement's kind."""
    check = m.ComplianceCheck
    officer = or_(
        User.id == check.assigned_to_id,
        and_(check.assigned_to_id.is_(None), User.org_unit_id == Agreement.org_unit_id,
             or_(and_(Agreement.kind == CONTRACT, User.role.in_(roles_for(CONTRACT))),
                 and_(Agreement.kind == GRANT, User.role.in_(roles_for(GRANT))))),
    )
    return (
        select(check.id, literal(kind), User.email, db.func.coalesce(User.locale, "de"),
               literal(day))
        .select_from(check)
        .join(Agreement, Agreement.id == check.agreement_id)
        .join(User, officer)
        .where(stage_condition, User.active.is_(True), User.email.is_not(None),
               User.email != "")
    )


def _queue(rows) -> int:
    r = outbox.Reminder
    stmt = dialect_insert(r).from_select(
        ["check_id", "kind", "recipient", "locale", "queued_on"], rows).on_conflict_do_nothing()
    return db.session.execute(stmt).rowcount or 0


def _escalations(cfg: Settings, condition, day: date) -> int:
    """Overdue checks to the unit's head and to the further configured addresses (few
    addresses: one set-based INSERT each)."""
    check = m.ComplianceCheck
    queued = 0
    units = dict(db.session.execute(select(OrgUnit.code, OrgUnit.id)).all())
    targets: list[tuple[str, int | None]] = [
        (address, units[code]) for code, address in cfg.unit_heads if code in units]
    targets += [(address, None) for address in cfg.escalation_emails]
    for address, unit_id in targets:
        rows = (select(check.id, literal(outbox.ESCALATION), literal(address), literal("de"),
                       literal(day))
                .select_from(check).join(Agreement, Agreement.id == check.agreement_id)
                .where(condition))
        if unit_id is not None:
            rows = rows.where(Agreement.org_unit_id == unit_id)
        queued += _queue(rows)
    return queued


def mark_overdue(day: date, cfg: Settings) -> int:
    check = m.ComplianceCheck
    becoming = and_(check.stage.in_((m.SCHEDULED, m.DUE)), check.deadline < day)
    _queue(_officer_reminders(outbox.OVERDUE, becoming, day))
    _escalations(cfg, becoming, day)
    result = db.session.execute(update(check).where(becoming).values(
        stage=m.OVERDUE, escalated_at=utcnow(), version_id=check.version_id + 1))
    return result.rowcount or 0


def mark_due(day: date) -> int:
    check = m.ComplianceCheck
    becoming = and_(check.stage == m.SCHEDULED, check.due_on <= day)
    _queue(_officer_reminders(outbox.DUE, becoming, day))
    result = db.session.execute(update(check).where(becoming).values(
        stage=m.DUE, version_id=check.version_id + 1))
    return result.rowcount or 0
