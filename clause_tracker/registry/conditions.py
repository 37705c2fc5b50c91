"""The named conditions behind every figure of the overview, as SQL over `agreements`.

One definition serves both sides: metrics.py counts the agreements meeting <condition> (for
declarations, checks and measures: having any row that meets the row condition, flagged per
agreement in one grouped pass) and the registry list filters with WHERE <condition> built
from the same row condition, so the number on the overview and the length of the list a
click on it opens are equal by construction. The compliance state itself
comes from compliance/state.py and is never redefined here.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import ColumnElement, and_, select, true

from clause_tracker.agreements.models import Agreement
from clause_tracker.checks.models import (
    APPROVED,
    MEASURE_KINDS,
    Complaint,
    ComplianceCheck,
    Measure,
)
from clause_tracker.compliance.check_predicates import check_overdue, overdue_check_row
from clause_tracker.compliance.signed_copy import has_verified_copy
from clause_tracker.compliance.state import EXEMPT, ComplianceColumns
from clause_tracker.declarations.models import MAIN, Declaration, valid_on
from clause_tracker.orgunits.models import OrgUnit
from clause_tracker.request_args import db_int, parse_day

DECLARATION_FILTERS = ("requested", "returned", "on_time")
EXPIRY_WINDOWS = (30, 60, 90)


def in_scope(columns: ComplianceColumns) -> ColumnElement[bool]:
    """Awarded (any status after draft) and not exempt: what coverage is a share of."""
    return and_(Agreement.status != "draft", ~columns.state_is(EXEMPT))


def unit_kind(kind: str) -> ColumnElement[bool]:
    return Agreement.org_unit_id.in_(select(OrgUnit.id).where(OrgUnit.kind == kind))


def quarter_bounds(quarter: str) -> tuple[date, date] | None:
    """'2025-Q3' → (2025-07-01, 2025-10-01); None when malformed."""
    try:
        year_text, q_text = quarter.split("-Q")
        year, number = int(year_text), int(q_text)
    except ValueError:
        return None
    if not (1 <= number <= 4 and 1900 <= year <= 2999):
        return None
    start = date(year, 3 * number - 2, 1)
    return start, start + relativedelta(months=3)


def quarter_of(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def decided_in(start: date | None, end_exclusive: date | None) -> ColumnElement[bool]:
    conditions = []
    if start:
        conditions.append(Agreement.decided_on >= start)
    if end_exclusive:
        conditions.append(Agreement.decided_on < end_exclusive)
    return and_(true(), *conditions)


# --- declarations: a row condition, counted per agreement ------------------------------------

def declaration_row(name: str, today: date) -> ColumnElement[bool]:
    """The condition on ONE declaration row; an agreement has the property when any of its
    declarations meets it."""
    main = Declaration.party == MAIN
    if name == "requested":
        return and_(main, Declaration.requested_on.is_not(None))
    if name == "returned":
        return and_(main, Declaration.requested_on.is_not(None),
                    Declaration.received_on.is_not(None))
    if name == "on_time":
        return and_(main, Declaration.requested_on.is_not(None),
                    Declaration.received_on.is_not(None), Declaration.deadline.is_not(None),
                    Declaration.received_on <= Declaration.deadline)
    if name.startswith("expiring_"):
        days = int(name.removeprefix("expiring_"))
        return and_(valid_on(today),
                    Declaration.valid_until < today + timedelta(days=days + 1))
    raise ValueError(name)


def has_declaration(name: str, today: date) -> ColumnElement[bool]:
    return Agreement.id.in_(select(Declaration.agreement_id).where(declaration_row(name, today)))


def declaration_flag_names() -> tuple[str, ...]:
    return (*DECLARATION_FILTERS, *(f"expiring_{d}" for d in EXPIRY_WINDOWS))


# --- checks, measures, complaints ------------------------------------------------------------

CHECK_FILTERS = ("overdue", "compliant", "findings")
MEASURE_FILTERS = (*MEASURE_KINDS, "exclusion_in_force")
COMPLAINT_FILTERS = ("linked",)


def check_row(name: str, today: date) -> ColumnElement[bool]:
    """The condition on ONE check row; an agreement has the property when any of its checks
    meets it. 'overdue' is the compliance state's own question (check_predicates); an
    outcome means a check carried out with that outcome (findings go on to a hearing)."""
    if name == "overdue":
        return overdue_check_row(today)
    return ComplianceCheck.outcome == name


def has_check(name: str, today: date) -> ColumnElement[bool]:
    if name == "overdue":
        return check_overdue(Agreement.id, today)
    return Agreement.id.in_(select(ComplianceCheck.agreement_id).where(check_row(name, today)))


def measure_row(name: str, today: date) -> ColumnElement[bool]:
    """Approved measures of a kind; an exclusion is *in force* until its end date."""
    if name == "exclusion_in_force":
        return and_(Measure.state == APPROVED, Measure.kind == "exclusion",
                    Measure.exclusion_until >= today)
    return and_(Measure.state == APPROVED, Measure.kind == name)


def has_measure(name: str, today: date) -> ColumnElement[bool]:
    return Agreement.id.in_(select(ComplianceCheck.agreement_id)
                            .join(Measure, Measure.check_id == ComplianceCheck.id)
                            .where(measure_row(name, today)))


def has_complaint() -> ColumnElement[bool]:
    return Agreement.id.in_(select(Complaint.agreement_id))


# --- the registry list's drill-down filters ---------------------------------------------------

UNIT_KINDS = ("department", "eigenbetrieb")
# "Clause attached" is the record's link; "verified" means found in the signed copy.
CLAUSE_FILTERS = ("attached", "verified")
SCOPES = ("in_scope",)


def drilldown_args(args) -> dict[str, Any]:
    """The drill-down fields of a ListFilter from request arguments; anything unknown is
    dropped, so a hand-edited URL cannot widen what a user sees (visibility is separate)."""
    def pick(name: str, allowed) -> str:
        value = args.get(name, "")
        return value if value in allowed else ""

    expiring = args.get("expiring_within", type=db_int)
    quarter = args.get("quarter", "")
    return {
        "scope": pick("scope", SCOPES),
        "unit_kind": pick("unit_kind", UNIT_KINDS),
        "declaration": pick("declaration", DECLARATION_FILTERS),
        "expiring_within": expiring if expiring in EXPIRY_WINDOWS else None,
        "exemption": args.get("exemption", "").strip()[:200],
        "clause_version": args.get("clause_version", type=db_int),
        "clause": pick("clause", CLAUSE_FILTERS),
        "quarter": quarter if quarter_bounds(quarter) else "",
        "decided_from": parse_day(args.get("decided_from")),
        "decided_to": parse_day(args.get("decided_to")),
        "check": pick("check", CHECK_FILTERS),
        "measure": pick("measure", MEASURE_FILTERS),
        "complaint": pick("complaint", COMPLAINT_FILTERS),
    }


def drilldown_conditions(filters, columns: ComplianceColumns,
                         today: date) -> list[ColumnElement[bool]]:
    """WHERE conditions for the drill-down fields of `filters` (a ListFilter)."""
    found: list[ColumnElement[bool]] = []
    if filters.scope == "in_scope":
        found.append(in_scope(columns))
    if filters.unit_kind:
        found.append(unit_kind(filters.unit_kind))
    if filters.declaration:
        found.append(has_declaration(filters.declaration, today))
    if filters.expiring_within:
        found.append(has_declaration(f"expiring_{filters.expiring_within}", today))
    if filters.exemption:
        found.append(and_(Agreement.exemption_approved_at.is_not(None),
                          Agreement.exemption_reason == filters.exemption))
    if filters.clause_version:
        found.append(Agreement.clause_version_id == filters.clause_version)
    if filters.clause == "attached":
        found.append(Agreement.clause_version_id.is_not(None))
    elif filters.clause == "verified":
        found.append(has_verified_copy(Agreement.id))
    if filters.quarter:
        start, end = quarter_bounds(filters.quarter)  # type: ignore[misc]
        found.append(decided_in(start, end))
    if filters.decided_from or filters.decided_to:
        end = filters.decided_to + timedelta(days=1) if filters.decided_to else None
        found.append(decided_in(filters.decided_from, end))
    if filters.check:
        found.append(has_check(filters.check, today))
    if filters.measure:
        found.append(has_measure(filters.measure, today))
    if filters.complaint:
        found.append(has_complaint())
    return found
