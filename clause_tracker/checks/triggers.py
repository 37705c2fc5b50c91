"""What makes a check due (DESIGN.md §4), each trigger ONE set-based SELECT of
(agreement, trigger, occasion, due date) rows. `schedule()` turns it into an
INSERT … SELECT of the rows not scheduled yet: a second run adds nothing, and a concurrent
one waits for the sweep's step lock (sweep.py) and then finds the rows there. The unique
(agreement, trigger, occasion) key stays the last word.

Complaints open their check from the service layer (services.record_complaint).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Insert,
    Select,
    SQLColumnExpression,
    String,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.orm import aliased

from clause_tracker.agreements.models import CONTRACT, GRANT, Agreement
from clause_tracker.checks.models import (
    CLAUSE_CHANGE,
    DECLARATION_EXPIRY,
    DUE,
    FUNDING_PERIOD,
    INTERVAL,
    OPEN_STAGES,
    RENEWAL,
    SAMPLE,
    SCHEDULED,
    ComplianceCheck,
    SampleDraw,
)
from clause_tracker.checks.models import (
    SUBCONTRACTOR as SUBCONTRACTOR_TRIGGER,
)
from clause_tracker.checks.settings import Settings
from clause_tracker.clauses.models import ClauseVersion
from clause_tracker.clock import utcnow
from clause_tracker.declarations.models import SUBCONTRACTOR, Declaration
from clause_tracker.extensions import db
from clause_tracker.orgunits.models import OrgUnit
from clause_tracker.sql import add_days, add_months, counted_insert, days_between, dialect_insert

# Agreements under monitoring: awarded or running, not exempted.
MONITORED_STATUSES = ("awarded", "active")
# Large primes for the reproducible sample: (id · A + seed) mod P < share · P.
_SAMPLE_A, _SAMPLE_P = 2654435761, 1000003


@dataclass(frozen=True)
class Context:
    today: date
    sweep_id: int | None
    settings: Settings


def monitored() -> ColumnElement[bool]:
    return and_(Agreement.status.in_(MONITORED_STATUSES),
                Agreement.exemption_approved_at.is_(None))


def text(value: SQLColumnExpression[object]) -> ColumnElement[str]:
    return cast(value, String)


def schedule(rows: Select, ctx: Context) -> Insert:
    """INSERT the selected (agreement_id, trigger, occasion, due_on) rows as checks; a check
    due already is inserted as due (the sweep queues its reminders in the same step)
    rather than written twice, inserted and then updated by mark_due."""
    sub = rows.subquery("due")
    c = ComplianceCheck
    stage = case((sub.c.due_on <= literal(ctx.today), DUE), else_=SCHEDULED)
    source = select(
        sub.c.agreement_id, sub.c.trigger, sub.c.occasion, sub.c.due_on,
        add_days(sub.c.due_on, ctx.settings.grace_days),
        stage, literal(ctx.sweep_id), literal(utcnow()), literal(1),
    ).where(
        # Rows already scheduled are left out here. No ON CONFLICT: two sweeps never
        # insert at once (the step lock), and its speculative insertion made inserting
        # 100,000 checks 15 % slower.
        ~exists().where(c.agreement_id == sub.c.agreement_id, c.trigger == sub.c.trigger,
                        c.occasion == sub.c.occasion),
    )
    columns = [c.agreement_id, c.trigger, c.occasion, c.due_on, c.deadline, c.stage,
               c.sweep_id, c.created_at, c.version_id]
    return counted_insert(ComplianceCheck).from_select([col.key for col in columns], source)


def _months_expression(settings: Settings) -> ColumnElement[int]:
    """The interval of each agreement by unit and kind (the most specific entry wins)."""
    codes = dict(db.session.execute(select(OrgUnit.code, OrgUnit.id)).tuples().all())
    whens = []
    for unit, kind, months in sorted(settings.intervals,
                                     key=lambda e: (e[0] == "*", e[1] == "*")):
        conds = []
        if unit != "*":
            if unit not in codes:
                continue
            conds.append(Agreement.org_unit_id == codes[unit])
        if kind != "*":
            conds.append(Agreement.kind == kind)
        whens.append((and_(*conds) if conds else literal(True), months))
    if not whens:
        return literal(settings.interval_months)
    return case(*whens, else_=settings.interval_months)


def interval(ctx: Context) -> Select:
    """The routine check: the interval after the last one (or after the start), never in
    the past. A check that would lie in the past is due today — or, for an agreement never
    checked (the first sweep over an old registry, an import of running contracts), on a
    day within the coming interval: `id mod (days of the interval)` days from today
    (COMPLIANCE_SPREAD_FIRST_CHECKS). So the first sweep over 100,000 agreements makes
    ~1/365 of them due each day rather than all of them on day one — and overdue, and
    escalated, a month later — while each is still checked within one interval.

    Agreements with an open routine check are left out first (an anti-join), and only the
    others' past checks are grouped for their last due date. Most days every agreement has
    an open check: grouping all routine checks by agreement to find that out was most of
    the time of a sweep with nothing to do (and spilled to disk at 100,000)."""
    day = literal(ctx.today)
    check = ComplianceCheck
    open_check = exists().where(check.agreement_id == Agreement.id, check.trigger == INTERVAL,
                                check.stage.in_(OPEN_STAGES))
    pending = select(Agreement.id).where(monitored(), ~open_check)
    history = (
        select(check.agreement_id.label("agreement_id"), func.max(check.due_on).label("last_due"))
        .where(check.trigger == INTERVAL, check.agreement_id.in_(pending))
        .group_by(check.agreement_id)
        .subquery("history")
    )
    anchor = func.coalesce(history.c.last_due, Agreement.start_date, Agreement.decided_on, day)
    months = _months_expression(ctx.settings)
    nominal = add_months(anchor, months)
    catch_up: ColumnElement = day
    if ctx.settings.spread_first_checks:
        span = days_between(add_months(day, months), day)
        catch_up = case((history.c.last_due.is_(None), add_days(day, Agreement.id % span)),
                        else_=day)
    due = case((nominal < day, catch_up), else_=nominal)
    return (
        select(Agreement.id.label("agreement_id"), literal(INTERVAL).label("trigger"),
               text(due).label("occasion"), due.label("due_on"))
        .select_from(Agreement)
        .outerjoin(history, history.c.agreement_id == Agreement.id)
        .where(monitored(), ~open_check)
    )


def renewal(ctx: Context) -> Select:
    """Contracts with renewal options: a check before the term ends (when the option is
    decided). A renewal moves the end date, which is a new occasion."""
    horizon = ctx.today + timedelta(days=ctx.settings.renewal_lead_days)
    return (
        select(Agreement.id.label("agreement_id"), literal(RENEWAL).label("trigger"),
               (literal("end:") + text(Agreement.end_date)).label("occasion"),
               literal(ctx.today).label("due_on"))
        .where(monitored(), Agreement.kind == CONTRACT,
               func.coalesce(Agreement.renewal_options, "") != "",
               Agreement.end_date.is_not(None), Agreement.end_date <= horizon,
               Agreement.end_date >= ctx.today)
    )


def declaration_expiry(ctx: Context) -> Select:
    """A declaration expired: check (and request a new one)."""
    return (
        select(Agreement.id.label("agreement_id"),
               literal(DECLARATION_EXPIRY).label("trigger"),
               (literal("declaration:") + text(Declaration.id)).label("occasion"),
               literal(ctx.today).label("due_on"))
        .join(Declaration, Declaration.agreement_id == Agreement.id)
        .where(monitored(), Declaration.state == "expired")
    )


def clause_change(ctx: Context) -> Select | None:
    """A newer clause version of a variant whose policy is "re-sign all": every monitored
    agreement still carrying an older version gets a check. (Policy "renewal": the renewal
    check covers it.)"""
    variants = sorted(ctx.settings.resign_all)
    if not variants:
        return None
    current = aliased(ClauseVersion)
    attached = aliased(ClauseVersion)
    newest = (
        select(current.variant, current.language, func.max(current.valid_from).label("since"))
        .where(current.valid_from <= ctx.today, current.variant.in_(variants))
        .group_by(current.variant, current.language)
        .subquery("newest")
    )
    return (
        select(Agreement.id.label("agreement_id"), literal(CLAUSE_CHANGE).label("trigger"),
               (literal("clause:") + text(newest.c.since)).label("occasion"),
               literal(ctx.today).label("due_on"))
        .join(attached, attached.id == Agreement.clause_version_id)
        .join(newest, and_(newest.c.variant == attached.variant,
                           newest.c.language == attached.language))
        .where(monitored(), attached.valid_from < newest.c.since)
    )


def subcontractor(ctx: Context) -> Select:
    since = ctx.today - timedelta(days=ctx.settings.lookback_days)
    return (
        select(Agreement.id.label("agreement_id"), literal(SUBCONTRACTOR_TRIGGER).label("trigger"),
               (literal("subcontractor:") + text(Declaration.id)).label("occasion"),
               literal(ctx.today).label("due_on"))
        .join(Declaration, Declaration.agreement_id == Agreement.id)
        .where(monitored(), Declaration.party == SUBCONTRACTOR,
               Declaration.requested_on.is_not(None), Declaration.requested_on >= since,
               Declaration.requested_on <= ctx.today)
    )


def funding_period(ctx: Context) -> Select:
    """A new funding period: a grant starts that continues an earlier grant to the same
    grantee in the same programme."""
    since = ctx.today - timedelta(days=ctx.settings.lookback_days)
    earlier = aliased(Agreement)
    return (
        select(Agreement.id.label("agreement_id"), literal(FUNDING_PERIOD).label("trigger"),
               (literal("period:") + text(Agreement.start_date)).label("occasion"),
               literal(ctx.today).label("due_on"))
        .where(monitored(), Agreement.kind == GRANT, Agreement.start_date.is_not(None),
               Agreement.start_date >= since, Agreement.start_date <= ctx.today,
               exists().where(earlier.kind == GRANT, earlier.id != Agreement.id,
                              earlier.counterparty_id == Agreement.counterparty_id,
                              or_(earlier.programme == Agreement.programme,
                                  and_(earlier.programme.is_(None),
                                       Agreement.programme.is_(None))),
                              earlier.start_date < Agreement.start_date))
    )


def sample_seed(ctx: Context) -> tuple[str, int]:
    """The month's seed: drawn by the first sweep of the month, kept for reproduction."""
    period = ctx.today.strftime("%Y-%m")
    stmt = dialect_insert(SampleDraw).values(
        period=period, seed=secrets.randbelow(2**31), share=ctx.settings.sample_share,
        sweep_id=ctx.sweep_id, drawn_at=utcnow()).on_conflict_do_nothing()
    db.session.execute(stmt)
    seed = db.session.scalar(select(SampleDraw.seed).where(SampleDraw.period == period))
    assert seed is not None
    return period, seed


def sample(ctx: Context) -> Select | None:
    if ctx.settings.sample_share <= 0:
        return None
    period, seed = sample_seed(ctx)
    score = (cast(Agreement.id, BigInteger) * literal(_SAMPLE_A, BigInteger)
             + literal(seed, BigInteger)) % _SAMPLE_P
    return (
        select(Agreement.id.label("agreement_id"), literal(SAMPLE).label("trigger"),
               literal(f"sample:{period}").label("occasion"),
               literal(ctx.today).label("due_on"))
        .where(monitored(), score < int(ctx.settings.sample_share * _SAMPLE_P))
    )


def sampled_ids(seed: int, share: float) -> Select:
    """Reproduce a month's sample from its recorded seed (for auditors and tests)."""
    score = (cast(Agreement.id, BigInteger) * literal(_SAMPLE_A, BigInteger)
             + literal(seed, BigInteger)) % _SAMPLE_P
    return select(Agreement.id).where(monitored(), score < int(share * _SAMPLE_P))


TRIGGER_QUERIES: list[tuple[str, Callable[[Context], Select | None]]] = [
    (INTERVAL, interval),
    (RENEWAL, renewal),
    (DECLARATION_EXPIRY, declaration_expiry),
    (CLAUSE_CHANGE, clause_change),
    (SUBCONTRACTOR_TRIGGER, subcontractor),
    (FUNDING_PERIOD, funding_period),
    (SAMPLE, sample),
]
