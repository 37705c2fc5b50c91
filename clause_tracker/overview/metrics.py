"""The overview's figures: a few set-based aggregate queries (GROUP BY unit, kind, state,
quarter), never a loop over records.

Coverage is a share of agreements *in scope* (awarded, not exempt) that are *covered*: in the
compliance state `compliant` as compliance/state.py defines it (clause attached, declaration
accepted and valid or not required, no check overdue, no open breach). Each count is made with
the very condition the registry list filters by (conditions.py), so drill-downs add up.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Subquery,
    and_,
    case,
    cast,
    extract,
    func,
    literal,
    select,
    text,
    union_all,
)

from clause_tracker.agreements.models import Agreement
from clause_tracker.checks.models import Complaint, ComplianceCheck, Measure
from clause_tracker.clauses.models import ClauseVersion
from clause_tracker.compliance.state import (
    COMPLIANT,
    EXEMPT,
    NON_COMPLIANT,
    PENDING,
    STATES,
    compliance_columns,
)
from clause_tracker.counterparties.models import Counterparty
from clause_tracker.declarations.models import SelfCommitment
from clause_tracker.extensions import db
from clause_tracker.orgunits.models import OrgUnit
from clause_tracker.registry.conditions import (
    CHECK_FILTERS,
    MEASURE_FILTERS,
    check_row,
    decided_in,
    declaration_flag_names,
    declaration_row,
    measure_row,
)

ZERO = Decimal("0")


@dataclass(frozen=True)
class Period:
    """Agreements decided from `start` to `end` (both inclusive); open ends allowed."""

    start: date | None = None
    end: date | None = None

    def condition(self):
        return decided_in(self.start, self.end + timedelta(days=1) if self.end else None)

    def args(self) -> dict[str, object]:
        found: dict[str, object] = {}
        if self.start:
            found["decided_from"] = self.start.isoformat()
        if self.end:
            found["decided_to"] = self.end.isoformat()
        return found


@dataclass
class GroupCoverage:
    """Counts and values of one group of agreements."""

    total: int = 0  # every agreement of the group, drafts included
    in_scope: int = 0
    covered: int = 0
    pending: int = 0
    non_compliant: int = 0
    exempt: int = 0
    value_in_scope: Decimal = ZERO
    value_covered: Decimal = ZERO
    # Of those in scope: the clause linked on the record, and found in the signed copy.
    attached: int = 0
    verified: int = 0
    value_attached: Decimal = ZERO
    value_verified: Decimal = ZERO

    def add(self, state: str, draft: bool, count: int, value: Decimal) -> None:
        self.total += count
        if state == EXEMPT:
            self.exempt += count
            return
        if draft:
            return
        self.in_scope += count
        self.value_in_scope += value
        if state == COMPLIANT:
            self.covered += count
            self.value_covered += value
        elif state == PENDING:
            self.pending += count
        elif state == NON_COMPLIANT:
            self.non_compliant += count

    def add_clause(self, attached: int, verified: int, value_attached: Decimal,
                   value_verified: Decimal) -> None:
        self.attached += attached
        self.verified += verified
        self.value_attached += value_attached
        self.value_verified += value_verified

    @property
    def share(self) -> Decimal | None:
        return percent(self.covered, self.in_scope)

    @property
    def value_share(self) -> Decimal | None:
        return percent(self.value_covered, self.value_in_scope)


def _groups() -> defaultdict:
    """Groups read as empty where no agreement falls into them."""
    return defaultdict(GroupCoverage)


def percent(part: int | Decimal, whole: int | Decimal) -> Decimal | None:
    """One decimal place, half up; None where there is nothing to share."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


@dataclass
class UnitInfo:
    id: int
    code: str
    name: str
    kind: str


@dataclass
class Coverage:
    total: GroupCoverage = field(default_factory=GroupCoverage)
    by_unit: dict[int, GroupCoverage] = field(default_factory=_groups)
    by_unit_kind: dict[str, GroupCoverage] = field(default_factory=_groups)
    by_kind: dict[str, GroupCoverage] = field(default_factory=_groups)
    by_quarter: dict[str, GroupCoverage] = field(default_factory=_groups)


@dataclass
class Declarations:
    counts: dict[str, int]

    @property
    def return_rate(self) -> Decimal | None:
        return percent(self.counts["returned"], self.counts["requested"])

    @property
    def on_time_rate(self) -> Decimal | None:
        return percent(self.counts["on_time"], self.counts["requested"])


@dataclass
class Figures:
    """All figures of one scope (a user's view, or all units) and period."""

    day: date
    period: Period
    units: list[UnitInfo]
    coverage: Coverage
    declarations: Declarations
    exemptions: list[tuple[str, int, Decimal]]  # reason, count, value
    clause_versions: list[tuple[int, str, int]]  # id, label, agreements
    commitments: tuple[int, int, Decimal | None]  # grants in scope, with commitment, avg score
    follow_up: FollowUp | None = None


def scoped(unit: int | None, period: Period) -> Select:
    """Agreements of the scope (one unit, or all for None), in the period."""
    stmt = select(Agreement)
    if unit is not None:
        stmt = stmt.where(Agreement.org_unit_id == unit)
    return stmt.where(period.condition())


@dataclass
class ScopeCounts:
    """What the one pass over the agreements of a scope and period yields."""

    coverage: Coverage
    declarations: Declarations
    commitments: tuple[int, int, Decimal | None]
    follow_up_agreements: dict[str, int]


def follow_up_flags(day: date) -> Subquery:
    """Per agreement with checks or complaints, 1 where it meets each follow-up condition
    (conditions.py's row conditions: any check / approved measure / complaint meeting it),
    in one grouped pass over checks ⟕ measures: the checks are read once, where an
    IN-subquery per condition would be probed once per agreement."""
    def any_(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.max(case((condition, 1), else_=0))

    by_check = select(
        ComplianceCheck.agreement_id.label("agreement_id"),
        *[any_(check_row(n, day)).label(f"check_{n}") for n in CHECK_FILTERS],
        *[any_(measure_row(n, day)).label(f"measure_{n}") for n in MEASURE_FILTERS],
        literal(0).label("complaint_linked"),
    ).outerjoin(Measure, Measure.check_id == ComplianceCheck.id) \
        .group_by(ComplianceCheck.agreement_id)
    by_complaint = select(
        Complaint.agreement_id.label("agreement_id"),
        *[literal(0).label(f"check_{n}") for n in CHECK_FILTERS],
        *[literal(0).label(f"measure_{n}") for n in MEASURE_FILTERS],
        literal(1).label("complaint_linked"),
    ).group_by(Complaint.agreement_id)
    both = union_all(by_check, by_complaint).subquery("follow_rows")
    return select(both.c.agreement_id,
                  *[func.max(both.c[n]).label(n) for n in follow_up_names()]) \
        .group_by(both.c.agreement_id).subquery("follow_flags")


def count_scope(unit: int | None, period: Period, day: date) -> ScopeCounts:
    """Coverage, declaration counts, self-commitments and follow-up counts in ONE statement:
    the compliance state is computed once per agreement (in a materialized CTE), then grouped
    by unit, kind, draft and quarter with a conditional sum per state and per flag.

    Why this shape: each figure used to be its own query over every agreement, so the state
    (the costly part: a grouped pass over all declarations plus the rules) was computed three
    times, and coverage grouped BY the state text, which PostgreSQL sorted (120,000 rows,
    spilling to disk at the default work_mem). A state is one of four known values, so a
    conditional sum per state counts the same rows without sorting them. The CTE is
    MATERIALIZED so that PostgreSQL does not inline it and re-evaluate the state's CASE for
    every aggregate that reads it. Every count uses the same conditions as before (and as
    the drill-down lists), so the numbers are unchanged."""
    names = declaration_flag_names()
    # The declaration figures are flagged in the state's own grouped pass over the
    # declarations (one read of the table, not two); a unit's view reads only its rows.
    only = None if unit is None else scoped(unit, period).with_only_columns(Agreement.id)
    columns = compliance_columns(day, only, {f"d_{n}": declaration_row(n, day) for n in names})
    flags = columns.facts
    month = cast(extract("month", Agreement.decided_on), Integer)
    year = cast(extract("year", Agreement.decided_on), Integer)
    quarter = (month + 2) // 3
    follow = follow_up_flags(day)
    per_agreement = columns.join(scoped(unit, period)) \
        .outerjoin(follow, follow.c.agreement_id == Agreement.id) \
        .outerjoin(SelfCommitment, SelfCommitment.agreement_id == Agreement.id) \
        .with_only_columns(
            Agreement.org_unit_id.label("unit"), Agreement.kind.label("kind"),
            columns.state.label("state"),
            case((Agreement.status == "draft", 1), else_=0).label("draft"),
            case((Agreement.clause_version_id.is_not(None), 1), else_=0).label("attached"),
            func.coalesce(columns.copies.c.verified, 0).label("verified"),
            year.label("year"), quarter.label("quarter"), Agreement.value.label("value"),
            *[func.coalesce(flags.c[f"d_{n}"], 0).label(f"d_{n}") for n in names],
            *[func.coalesce(follow.c[n], 0).label(f"f_{n}") for n in follow_up_names()],
            SelfCommitment.score.label("score"),
        ).cte("per_agreement").prefix_with("MATERIALIZED")
    c = per_agreement.c
    # Self-commitments are counted over grants that are awarded (not drafts) and not exempt.
    grant_in_scope = and_(c.kind == "grant", c.draft == 0, c.state != EXEMPT)
    in_scope = and_(c.draft == 0, c.state != EXEMPT)
    stmt = select(
        c.unit, c.kind, c.draft, c.year, c.quarter,
        *[func.sum(case((c.state == s, 1), else_=0)) for s in STATES],
        *[func.coalesce(func.sum(case((c.state == s, c.value), else_=0)), 0) for s in STATES],
        *[func.sum(c[f"d_{n}"]) for n in names],
        *[func.sum(c[f"f_{n}"]) for n in follow_up_names()],
        func.sum(case((grant_in_scope, 1), else_=0)),
        func.sum(case((and_(grant_in_scope, c.score.is_not(None)), 1), else_=0)),
        func.sum(case((grant_in_scope, c.score), else_=0)),
        *[func.sum(case((and_(in_scope, c[flag] == 1), 1), else_=0))
          for flag in ("attached", "verified")],
        *[func.coalesce(func.sum(case((and_(in_scope, c[flag] == 1), c.value), else_=0)), 0)
          for flag in ("attached", "verified")],
    ).group_by(c.unit, c.kind, c.draft, c.year, c.quarter)
    if db.session.get_bind().dialect.name == "postgresql":
        # A few hundred groups, but the planner estimates 12,000 with thirty aggregates each
        # and, at the default 4 MB, sorts the 120,000 materialized rows on disk to group
        # them; with room for the hash table it hashes instead. SET LOCAL ends with the
        # request's transaction.
        db.session.execute(text("SET LOCAL work_mem = '32MB'"))
    kinds = dict(db.session.execute(select(OrgUnit.id, OrgUnit.kind)).tuples().all())
    result = Coverage()
    declared = dict.fromkeys(names, 0)
    followed = dict.fromkeys(follow_up_names(), 0)
    grants = with_commitment = score_sum = 0
    n_states, n_names, n_follow = len(STATES), len(names), len(followed)
    for row in db.session.execute(stmt):
        unit_id, kind, is_draft, y, q = row[:5]
        rest = row[5:]
        counts, values = rest[:n_states], rest[n_states:2 * n_states]
        rest = rest[2 * n_states:]
        for n, v in zip(names, rest[:n_names], strict=True):
            declared[n] += int(v or 0)
        rest = rest[n_names:]
        for n, v in zip(followed, rest[:n_follow], strict=True):
            followed[n] += int(v or 0)
        g, w, score, attached, verified, value_attached, value_verified = rest[n_follow:]
        grants, with_commitment = grants + int(g or 0), with_commitment + int(w or 0)
        score_sum += int(score or 0)
        tallies = [result.total, result.by_unit[unit_id],
                   result.by_unit_kind[str(kinds[unit_id].value)], result.by_kind[kind]]
        if y is not None:
            tallies.append(result.by_quarter[f"{int(y)}-Q{int(q)}"])
        for tally in tallies:
            tally.add_clause(int(attached or 0), int(verified or 0),
                             Decimal(value_attached or 0), Decimal(value_verified or 0))
        for state, count, value in zip(STATES, counts, values, strict=True):
            if not count:
                continue
            value = Decimal(value or 0)
            for tally in tallies:
                tally.add(state, bool(is_draft), int(count), value)
    mean_score = (Decimal(score_sum) / Decimal(with_commitment)).quantize(Decimal("0.1")) \
        if with_commitment else None
    return ScopeCounts(result, Declarations(declared), (grants, with_commitment, mean_score),
                   followed)


def exemptions(unit: int | None, period: Period) -> list[tuple[str, int, Decimal]]:
    base = scoped(unit, period).where(Agreement.exemption_approved_at.is_not(None)).subquery()
    stmt = select(base.c.exemption_reason, func.count(), func.coalesce(func.sum(base.c.value), 0)) \
        .group_by(base.c.exemption_reason).order_by(base.c.exemption_reason)
    return [(reason or "", count, Decimal(value)) for reason, count, value
            in db.session.execute(stmt)]


def clause_versions(unit: int | None, period: Period) -> list[tuple[int, str, int]]:
    base = scoped(unit, period).where(Agreement.clause_version_id.is_not(None)).subquery()
    counted = select(base.c.clause_version_id, func.count().label("n")) \
        .group_by(base.c.clause_version_id).subquery()
    stmt = select(ClauseVersion.id, ClauseVersion.variant, ClauseVersion.version,
                  ClauseVersion.language, counted.c.n) \
        .join(counted, counted.c.clause_version_id == ClauseVersion.id) \
        .order_by(ClauseVersion.variant, ClauseVersion.version, ClauseVersion.language)
    return [(vid, f"{variant} {version} ({language})", n)
            for vid, variant, version, language, n in db.session.execute(stmt)]


@dataclass
class FollowUp:
    """Checks, measures and complaints: agreements counted once per condition."""

    agreements: dict[str, int]  # condition name → agreements meeting it
    checks_done: int  # completed checks of the agreements (a number of checks, not agreements)
    complaints: int  # complaints linked to the agreements (counts only, no case details)
    exclusions: list[tuple[str, str, date]]  # counterparty, reference, excluded until


def follow_up_names() -> tuple[str, ...]:
    return (*(f"check_{n}" for n in CHECK_FILTERS), *(f"measure_{n}" for n in MEASURE_FILTERS),
            "complaint_linked")


def follow_up(unit: int | None, period: Period, day: date,
              agreements: dict[str, int] | None = None) -> FollowUp:
    """`agreements` (the per-condition counts) when count_scope has counted them already."""
    if agreements is None:
        agreements = count_scope(unit, period, day).follow_up_agreements
    ids = scoped(unit, period).with_only_columns(Agreement.id).scalar_subquery()
    checks_done = db.session.scalar(select(func.count(ComplianceCheck.id)).where(
        ComplianceCheck.outcome.is_not(None), ComplianceCheck.agreement_id.in_(ids))) or 0
    complaints = db.session.scalar(select(func.count(Complaint.id)).where(
        Complaint.agreement_id.in_(ids))) or 0
    exclusions = [
        (party or "", reference, until) for party, reference, until in db.session.execute(
            scoped(unit, period)
            .join(ComplianceCheck, ComplianceCheck.agreement_id == Agreement.id)
            .join(Measure, Measure.check_id == ComplianceCheck.id)
            .outerjoin(Counterparty, Counterparty.id == Agreement.counterparty_id)
            .where(measure_row("exclusion_in_force", day))
            .with_only_columns(Counterparty.name, Agreement.reference, Measure.exclusion_until)
            .order_by(Measure.exclusion_until, Agreement.reference))
    ]
    return FollowUp(agreements, checks_done, complaints, exclusions)


def units_for(unit: int | None) -> list[UnitInfo]:
    stmt = select(OrgUnit).order_by(OrgUnit.kind, OrgUnit.code)
    if unit is not None:
        stmt = stmt.where(OrgUnit.id == unit)
    return [UnitInfo(u.id, u.code, u.name, str(u.kind.value)) for u in db.session.scalars(stmt)]


def compute(unit: int | None, period: Period, day: date) -> Figures:
    found = count_scope(unit, period, day)
    return Figures(
        day=day, period=period, units=units_for(unit),
        coverage=found.coverage,
        declarations=found.declarations,
        exemptions=exemptions(unit, period),
        clause_versions=clause_versions(unit, period),
        commitments=found.commitments,
        follow_up=follow_up(unit, period, day, found.follow_up_agreements),
    )


def quarters_between(first: str, last: str) -> list[str]:
    """Every quarter from `first` to `last`, gaps included (a chart must not skip time)."""
    year, q = int(first[:4]), int(first[-1])
    found = []
    while True:
        label = f"{year}-Q{q}"
        found.append(label)
        if label >= last or len(found) > 400:
            return found
        year, q = (year + 1, 1) if q == 4 else (year, q + 1)

