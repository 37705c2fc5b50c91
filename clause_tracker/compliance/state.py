"""THE definition of an agreement's compliance state with its reason.

The rules below are an ordered list: the first that matches gives the state and the
reason. They are SQL (a CASE over the agreement's columns and per-agreement facts about its
declarations, aggregated in one grouped pass; today's date a bound parameter), so lists can
filter and sort 100,000 agreements in the database; the
single-record functions run the very same expressions, so a detail page can never
disagree with a list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from itertools import takewhile

from flask import current_app
from sqlalchemy import (
    ColumnElement,
    FromClause,
    Select,
    SQLColumnExpression,
    Subquery,
    and_,
    bindparam,
    case,
    exists,
    false,
    func,
    literal,
    or_,
    select,
)

from clause_tracker.agreements.models import Agreement
from clause_tracker.checks.models import (
    APPROVED,
    BREACH_CONFIRMED,
    NOT_DONE,
    ComplianceCheck,
    Measure,
)
from clause_tracker.clock import today
from clause_tracker.compliance.check_predicates import check_due, check_overdue
from clause_tracker.compliance.signed_copy import MONITORED_STATUSES, copy_facts, not_verified
from clause_tracker.declarations.lifecycle import VALID_STATES
from clause_tracker.declarations.models import MAIN, Declaration, valid_on
from clause_tracker.documents.web.models import CONFIRMABLE_STATUSES
from clause_tracker.extensions import db

EXEMPT, COMPLIANT, PENDING, NON_COMPLIANT = "exempt", "compliant", "pending", "non_compliant"
STATES = (EXEMPT, COMPLIANT, PENDING, NON_COMPLIANT)
FALLBACK_REASON = "no_declaration"

@dataclass(frozen=True)
class Rule:
    state: str
    reason: str
    condition: ColumnElement[bool]


def declaration_facts(today: date, only: Select | None = None,
                      extra: dict[str, ColumnElement[bool]] | None = None) -> Subquery:
    """Per agreement, what its declarations show (1 = some declaration does), in ONE pass
    over the declarations table (grouped), instead of a correlated EXISTS per rule and row.
    Superseded declarations no longer count for the state. `only` (a SELECT of agreement
    ids) limits the pass to those agreements: the same facts, read for a page of rows
    instead of all. `extra`: further named row conditions flagged in the same pass (the
    overview's declaration figures), so the table is read and grouped once, not twice."""
    day = literal(today)
    current = Declaration.state != "superseded"

    def any_(*conditions: ColumnElement[bool]) -> ColumnElement[int]:
        return func.max(case((and_(*conditions), 1), else_=0))

    state = Declaration.state
    stmt = select(
        Declaration.agreement_id.label("agreement_id"),
        any_(state == "breach_confirmed").label("breach"),
        any_(state == "rejected").label("rejected"),
        any_(state == "requested", Declaration.deadline < day).label("overdue"),
        any_(or_(state == "expired",
                 and_(state.in_(VALID_STATES), ~valid_on(day))))
        .label("expired"),
        any_(state == "suspended").label("suspended"),
        any_(state == "received").label("received"),
        any_(state == "requested").label("requested"),
        any_(state == "voided").label("voided"),
        any_(Declaration.party == MAIN, valid_on(day)).label("main_valid"),
        any_(Declaration.party == MAIN, state == "not_required").label("main_not_required"),
    )
    if extra:
        # Extra conditions may count superseded declarations too (a declaration requested
        # and returned stays returned when a later one replaces it): the pass then reads
        # every row and the state's facts above keep to the current ones by their
        # conditions (each names a state other than superseded, so none needs the filter).
        stmt = stmt.add_columns(*[any_(condition).label(name)
                                  for name, condition in extra.items()])
    else:
        stmt = stmt.where(current)
    if only is not None:
        stmt = stmt.where(Declaration.agreement_id.in_(only))
    return stmt.group_by(Declaration.agreement_id).subquery("declaration_facts")


def _approved_measure(agreement_id: SQLColumnExpression[int],
                      *conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    return exists().where(ComplianceCheck.agreement_id == agreement_id,
                          Measure.check_id == ComplianceCheck.id, Measure.state == APPROVED,
                          *conditions)


def measure_in_force(agreement_id: SQLColumnExpression[int], today: date,
                     *on_checks: ColumnElement[bool]) -> ColumnElement[bool]:
    """What "an open measure" means: one approved by the second person (a
    proposal binds nobody yet) that is still in force today —
    - an action plan until it is recorded done (on time or late); one not done, or past
      its deadline without a completion, still binds (and is overdue),
    - an exclusion from awards until its end date,
    - a contractual penalty, a termination or a revocation for good (they have no end:
      the consequence, once imposed, stays on the record),
    - never a self-cleaning (§ 125 GWB): it is the remedy, not a sanction."""
    day = literal(today)
    return _approved_measure(agreement_id, or_(
        and_(Measure.kind == "action_plan",
             or_(Measure.completion.is_(None), Measure.completion == NOT_DONE)),
        and_(Measure.kind == "exclusion", Measure.exclusion_until >= day),
        Measure.kind.in_(("penalty", "termination", "revocation")),
    ), *on_checks)


def measure_approved(agreement_id: SQLColumnExpression[int]) -> ColumnElement[bool]:
    """Some measure was decided on and approved (in force or not)."""
    return _approved_measure(agreement_id)


def action_plan_overdue(agreement_id: SQLColumnExpression[int], today: date,
                        only: Select | None = None) -> ColumnElement[bool]:
    """An approved action plan past its deadline without a completion record. Asked of
    every agreement, so an uncorrelated IN (computed once, probed as a hash), not an EXISTS
    per row (see check_predicates)."""
    stmt = select(ComplianceCheck.agreement_id).join(
        Measure, Measure.check_id == ComplianceCheck.id).where(
        Measure.kind == "action_plan", Measure.state == APPROVED,
        Measure.completion.is_(None), Measure.deadline < literal(today))
    if only is not None:
        stmt = stmt.where(ComplianceCheck.agreement_id.in_(only))
    return agreement_id.in_(stmt)


def check_breach(agreement_id: SQLColumnExpression[int], only: Select | None = None
                 ) -> ColumnElement[bool]:
    """A check decided, after its hearing, that the clause was breached."""
    stmt = select(ComplianceCheck.agreement_id).where(
        ComplianceCheck.decision == BREACH_CONFIRMED)
    if only is not None:
        stmt = stmt.where(ComplianceCheck.agreement_id.in_(only))
    return agreement_id.in_(stmt)


def check_breach_undecided(agreement_id: SQLColumnExpression[int], only: Select | None = None
                           ) -> ColumnElement[bool]:
    """A breach confirmed by a check on which no measure has been approved yet."""
    approved = exists().where(Measure.check_id == ComplianceCheck.id, Measure.state == APPROVED)
    stmt = select(ComplianceCheck.agreement_id).where(
        ComplianceCheck.decision == BREACH_CONFIRMED, ~approved)
    if only is not None:
        stmt = stmt.where(ComplianceCheck.agreement_id.in_(only))
    return agreement_id.in_(stmt)


def rules(today: date, facts: Subquery, copies: Subquery, only: Select | None = None,
          copy_kinds: tuple[str, ...] = ()) -> list[Rule]:
    """The ordered rules; `facts` is `declaration_facts(today)`, `copies` is
    `signed_copy.copy_facts()`, both outer-joined on the agreement. `only`: the agreements
    asked about (see declaration_facts), for the checks too. `copy_kinds`: the kinds whose
    awards expect a signed copy back (setting SIGNED_COPY_KINDS)."""
    f = facts.c
    day = literal(today)
    copy = copies.c.status
    awarded = Agreement.status != "draft"
    # A signed copy is expected of a running award of these kinds; what a returned file
    # shows counts for every kind (a changed clause is a changed clause).
    expects_copy = and_(Agreement.kind.in_(copy_kinds) if copy_kinds else false(),
                        Agreement.status.in_(MONITORED_STATUSES), not_verified(copies))
    return [
        Rule(EXEMPT, "exemption_approved", Agreement.exemption_approved_at.is_not(None)),
        Rule(NON_COMPLIANT, "exemption_voided",
             and_(awarded, Agreement.clause_version_id.is_(None),
                  Agreement.exemption_voided_at.is_not(None))),
        Rule(NON_COMPLIANT, "no_clause",
             and_(awarded, Agreement.clause_version_id.is_(None))),
        # A confirmed breach keeps the agreement non-compliant while an approved measure is
        # in force, and while no measure has been approved yet (the consequence is still to
        # be decided). Once every approved measure has run its course the breach is closed
        # and the rules below decide (a new declaration is then needed to be compliant).
        Rule(NON_COMPLIANT, "action_plan_overdue",
             action_plan_overdue(Agreement.id, today, only)),
        Rule(NON_COMPLIANT, "breach_open_measure",
             and_(f.breach == 1, measure_in_force(Agreement.id, today))),
        Rule(NON_COMPLIANT, "breach_confirmed",
             and_(f.breach == 1, ~measure_approved(Agreement.id))),
        # The same for a breach a check confirmed after its hearing: the measures decided
        # on that check keep it open, and it is open while none has been approved.
        Rule(NON_COMPLIANT, "check_breach_open_measure",
             and_(check_breach(Agreement.id, only), measure_in_force(
                 Agreement.id, today, ComplianceCheck.decision == BREACH_CONFIRMED))),
        Rule(NON_COMPLIANT, "check_breach_confirmed", check_breach_undecided(Agreement.id, only)),
        Rule(NON_COMPLIANT, "signed_copy_deviates", and_(awarded, copy == "deviation")),
        Rule(NON_COMPLIANT, "signed_copy_clause_missing", and_(awarded, copy == "missing")),
        Rule(NON_COMPLIANT, "signed_copy_tracked_changes",
             and_(awarded, copy == "tracked_changes")),
        Rule(NON_COMPLIANT, "declaration_rejected", f.rejected == 1),
        Rule(NON_COMPLIANT, "declaration_overdue", f.overdue == 1),
        Rule(NON_COMPLIANT, "declaration_expired", f.expired == 1),
        Rule(NON_COMPLIANT, "not_required_voided", and_(awarded, f.voided == 1)),
        Rule(NON_COMPLIANT, "check_overdue", check_overdue(Agreement.id, today, only)),
        Rule(NON_COMPLIANT, "signed_copy_overdue",
             and_(expects_copy, Agreement.signed_copy_due_on < day)),
        Rule(PENDING, "draft_without_clause", Agreement.clause_version_id.is_(None)),
        Rule(PENDING, "declaration_suspended", f.suspended == 1),
        Rule(PENDING, "declaration_received", f.received == 1),
        Rule(PENDING, "declaration_requested", f.requested == 1),
        Rule(PENDING, "check_due", check_due(Agreement.id, today, only)),
        Rule(PENDING, "signed_copy_unconfirmed",
             and_(expects_copy, copy.in_(CONFIRMABLE_STATUSES))),
        Rule(PENDING, "signed_copy_awaited", expects_copy),
        Rule(COMPLIANT, "declaration_valid", f.main_valid == 1),
        Rule(COMPLIANT, "declaration_not_required", f.main_not_required == 1),
        Rule(PENDING, "draft_without_declaration", Agreement.status == "draft"),
    ]


@dataclass(frozen=True)
class ComplianceColumns:
    """The state and reason as SQL, and how to join what they read (the declaration facts,
    the signed copy's) onto a query."""

    facts: FromClause
    copies: FromClause
    state: ColumnElement[str]
    reason: ColumnElement[str]
    rules: tuple[Rule, ...] = ()

    def join(self, stmt: Select) -> Select:
        """`stmt` (selecting from agreements) with the facts outer-joined."""
        return stmt.outerjoin(self.facts, self.facts.c.agreement_id == Agreement.id) \
            .outerjoin(self.copies, self.copies.c.agreement_id == Agreement.id)

    def state_is(self, value: str) -> ColumnElement[bool]:
        """`state == value`, read off the ordered rules where that is exact and cheaper.

        When the rules giving `value` all come first (before any rule giving another state)
        and `value` is not the fallback, the CASE gives `value` exactly where one of those
        leading conditions holds (a NULL condition does not match, hence COALESCE). Exempt
        is such a state: `state != 'exempt'` (in scope) then reads one column instead of
        computing the whole CASE, and the declaration facts, for 120,000 agreements.
        Otherwise the CASE itself. Derived from the rules, so never a second definition."""
        leading = list(takewhile(lambda r: r.state == value, self.rules))
        later = self.rules[len(leading):]
        if not leading or value == NON_COMPLIANT or any(r.state == value for r in later):
            return self.state == value
        return func.coalesce(or_(*[r.condition for r in leading]), false())


def compliance_columns(on: date | None = None, only: Select | None = None,
                       extra: dict[str, ColumnElement[bool]] | None = None) -> ComplianceColumns:
    """SQL for the compliance state and reason of each agreement row: use in SELECT, WHERE
    and ORDER BY of a statement passed through `.join()`. `only` and `extra`: see
    declaration_facts (with `only`, the statement must select only those agreements)."""
    day = on or today()
    if only is None and extra is None:
        return _columns_of_day(day, copy_kinds())
    return _build(day, only, extra, copy_kinds())


def copy_kinds() -> tuple[str, ...]:
    """The kinds whose awards expect a signed copy back (setting SIGNED_COPY_KINDS)."""
    return tuple(sorted(current_app.config.get("SIGNED_COPY_KINDS", ())))


@lru_cache(maxsize=4)
def _columns_of_day(day: date, kinds: tuple[str, ...]) -> ComplianceColumns:
    """The columns for all agreements on one day, built once: SQL expressions are immutable
    and reusable, and building these (some hundred bound values) was a quarter of a list
    page's time."""
    return _build(day, None, None, kinds)


PAGE_IDS = "page_ids"


def page_columns(day: date) -> ComplianceColumns:
    """The columns for a page of agreements whose ids are given when the statement runs,
    as the expanding parameter PAGE_IDS: built once per day like _columns_of_day."""
    return _page_columns(day, copy_kinds())


@lru_cache(maxsize=4)
def _page_columns(day: date, kinds: tuple[str, ...]) -> ComplianceColumns:
    return _build(day, select(Agreement.id).where(
        Agreement.id.in_(bindparam(PAGE_IDS, expanding=True))), None, kinds)


def _build(day: date, only: Select | None, extra: dict[str, ColumnElement[bool]] | None,
           kinds: tuple[str, ...]) -> ComplianceColumns:
    facts = declaration_facts(day, only, extra)
    copies = copy_facts(only)
    found = rules(day, facts, copies, only, kinds)
    return ComplianceColumns(
        facts,
        copies,
        case(*[(r.condition, r.state) for r in found], else_=NON_COMPLIANT),
        case(*[(r.condition, r.reason) for r in found], else_=FALLBACK_REASON),
        tuple(found),
    )


@dataclass(frozen=True)
class Compliance:
    state: str
    reason: str


def compliance_of(agreement_id: int, on: date | None = None) -> Compliance:
    """The state and reason of one agreement, from the same SQL the lists use."""
    columns = compliance_columns(on)
    row = db.session.execute(columns.join(
        select(columns.state, columns.reason).select_from(Agreement)
    ).where(Agreement.id == agreement_id)).one()
    return Compliance(row[0], row[1])

