"""The registry list: search, filters, sorting and pages, as one set-based statement."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Select, func, or_, select

from clause_tracker.agreements.models import KINDS, STATUSES, Agreement
from clause_tracker.agreements.services import visible
from clause_tracker.auth.models import User
from clause_tracker.compliance.state import (
    STATES,
    ComplianceColumns,
    compliance_columns,
    today,
)
from clause_tracker.counterparties.models import Counterparty
from clause_tracker.extensions import db
from clause_tracker.overview.conditions import drilldown_args, drilldown_conditions
from clause_tracker.pagination import clamp, page_count

PAGE_SIZE = 25
SORTS = {
    "reference": Agreement.reference,
    "decided_on": Agreement.decided_on,
    "value": Agreement.value,
    "status": Agreement.status,
    "updated": Agreement.updated_at,
}


@dataclass(frozen=True)
class ListFilter:
    q: str = ""
    unit: int | None = None
    kind: str = ""
    status: str = ""
    compliance: str = ""
    sort: str = "-updated"
    # Drill-down from the overview (overview/conditions.py defines them)
    scope: str = ""
    unit_kind: str = ""
    declaration: str = ""
    expiring_within: int | None = None
    exemption: str = ""
    clause_version: int | None = None
    quarter: str = ""
    decided_from: date | None = None
    decided_to: date | None = None
    check: str = ""
    measure: str = ""
    complaint: str = ""

    @classmethod
    def from_args(cls, args) -> ListFilter:
        def pick(name: str, allowed) -> str:
            value = args.get(name, "")
            return value if value in allowed else ""

        sort = args.get("sort", "-updated")
        if sort.lstrip("-") not in (*SORTS, "compliance"):
            sort = "-updated"
        return cls(q=args.get("q", "").strip()[:100], unit=args.get("unit", type=int),
                    kind=pick("kind", KINDS), status=pick("status", STATUSES),
                    compliance=pick("compliance", STATES), sort=sort,
                    **drilldown_args(args))


@dataclass
class Row:
    agreement: Agreement
    compliance: str
    reason: str


@dataclass
class Page:
    rows: list[Row]
    number: int
    total: int
    flt: ListFilter
    args: dict[str, str] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return page_count(self.total, PAGE_SIZE)


def filtered(user: User, flt: ListFilter, day: date) -> tuple[Select, ComplianceColumns]:
    """The list's statement (agreements the user sees, matching `flt`), unordered."""
    columns = compliance_columns(day)
    state = columns.state
    stmt = columns.join(visible(user)) \
        .outerjoin(Counterparty, Agreement.counterparty_id == Counterparty.id)
    if flt.q:
        like = f"%{flt.q}%"
        stmt = stmt.where(or_(Agreement.reference.ilike(like), Agreement.subject.ilike(like),
                              Counterparty.name.ilike(like)))
    if flt.unit:
        stmt = stmt.where(Agreement.org_unit_id == flt.unit)
    if flt.kind:
        stmt = stmt.where(Agreement.kind == flt.kind)
    if flt.status:
        stmt = stmt.where(Agreement.status == flt.status)
    if flt.compliance:
        stmt = stmt.where(state == flt.compliance)
    stmt = stmt.where(*drilldown_conditions(flt, state, day))
    return stmt, columns


def page(user: User, flt: ListFilter, number: int = 1, on: date | None = None) -> Page:
    stmt, columns = filtered(user, flt, on or today())
    state, reason = columns.state, columns.reason
    total = db.session.scalar(select(func.count()).select_from(
        stmt.with_only_columns(Agreement.id).subquery())) or 0
    number = clamp(number, total, PAGE_SIZE)
    key = flt.sort.lstrip("-")
    column = state if key == "compliance" else SORTS[key]
    order = column.desc() if flt.sort.startswith("-") else column.asc()
    stmt = stmt.add_columns(state.label("compliance"), reason.label("reason")) \
        .order_by(order, Agreement.id.desc()).limit(PAGE_SIZE).offset((number - 1) * PAGE_SIZE)
    rows = [Row(a, c, r) for a, c, r in db.session.execute(stmt).unique()]
    args = {k: str(v) for k, v in vars(flt).items() if v and not (k == "sort"
                                                                and v == "-updated")}
    return Page(rows, number, total, flt, args)
