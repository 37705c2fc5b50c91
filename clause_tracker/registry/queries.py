"""The registry list: search, filters, sorting and pages, as one set-based statement."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Select, bindparam, func, or_, select

from clause_tracker.agreements.models import KINDS, STATUSES, Agreement
from clause_tracker.agreements.services import visible
from clause_tracker.auth.models import User
from clause_tracker.clock import today
from clause_tracker.compliance.state import (
    PAGE_IDS,
    STATES,
    ComplianceColumns,
    compliance_columns,
    page_columns,
)
from clause_tracker.counterparties.models import Counterparty
from clause_tracker.extensions import db
from clause_tracker.pagination import clamp, page_count
from clause_tracker.registry.conditions import drilldown_args, drilldown_conditions
from clause_tracker.request_args import db_int

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
    clause: str = ""
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
        return cls(q=args.get("q", "").strip()[:100], unit=args.get("unit", type=db_int),
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
    filters: ListFilter
    args: dict[str, str] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return page_count(self.total, PAGE_SIZE)


def filtered(user: User, filters: ListFilter, day: date) -> tuple[Select, ComplianceColumns]:
    """The list's statement (agreements the user sees, matching `filters`), unordered."""
    columns = compliance_columns(day)
    stmt = columns.join(visible(user)) \
        .outerjoin(Counterparty, Agreement.counterparty_id == Counterparty.id)
    if filters.q:
        like = f"%{filters.q}%"
        stmt = stmt.where(or_(Agreement.reference.ilike(like), Agreement.subject.ilike(like),
                              Counterparty.name.ilike(like)))
    if filters.unit:
        stmt = stmt.where(Agreement.org_unit_id == filters.unit)
    if filters.kind:
        stmt = stmt.where(Agreement.kind == filters.kind)
    if filters.status:
        stmt = stmt.where(Agreement.status == filters.status)
    if filters.compliance:
        stmt = stmt.where(columns.state_is(filters.compliance))
    stmt = stmt.where(*drilldown_conditions(filters, columns, day))
    return stmt, columns


def page(user: User, filters: ListFilter, number: int = 1, on: date | None = None) -> Page:
    """One page of the list and the number of all matching rows.

    Why two statements and this shape: the count needs every matching row (and, where the
    filter reads the compliance state, every row's state), so it rides on the page's own
    statement as COUNT(*) OVER () — the rows are filtered and their state computed once,
    not once for a count and again for the page. That statement selects ids only; when
    neither filter nor sort reads the state, PostgreSQL drops the declaration facts join
    altogether. The state and reason shown are then read for the page's 25 rows alone, the
    declaration facts limited to them (the same rules, compliance/state.py)."""
    day = on or today()
    stmt, columns = filtered(user, filters, day)
    key = filters.sort.lstrip("-")
    column = columns.state if key == "compliance" else SORTS[key]
    order = column.desc() if filters.sort.startswith("-") else column.asc()

    def count() -> int:
        return db.session.scalar(select(func.count()).select_from(
            stmt.with_only_columns(Agreement.id).subquery())) or 0

    number = max(1, number)
    if filters.compliance or key == "compliance":
        # The state is computed for every row anyway: count in the same pass.
        def ids_on(n: int) -> list[tuple[int, int]]:
            return [(i, t) for i, t in db.session.execute(
                stmt.with_only_columns(Agreement.id, func.count().over())
                .order_by(order, Agreement.id.desc())
                .limit(PAGE_SIZE).offset((n - 1) * PAGE_SIZE))]

        found = ids_on(number)
        total = found[0][1] if found else count()
    else:
        # Nothing computes the state: a plain count, and the page's
        # 25 ids by the sort's index — a window count over all rows sorts them all for 25.
        def ids_on(n: int) -> list[tuple[int, int]]:
            return [(i, 0) for i in db.session.scalars(
                stmt.with_only_columns(Agreement.id).order_by(order, Agreement.id.desc())
                .limit(PAGE_SIZE).offset((n - 1) * PAGE_SIZE))]

        total = count()
        found = ids_on(number) if total else []
    if not found and clamp(number, total, PAGE_SIZE) != number:  # a page past the end
        number = clamp(number, total, PAGE_SIZE)
        found = ids_on(number)
    ids = [i for i, _ in found]
    shown = page_columns(day)
    by_id = {a.id: (a, c, r) for a, c, r in db.session.execute(shown.join(
        select(Agreement, shown.state, shown.reason).select_from(Agreement)
    ).where(Agreement.id.in_(bindparam(PAGE_IDS, expanding=True))), {PAGE_IDS: ids}).unique()}
    rows = [Row(*by_id[i]) for i in ids if i in by_id]
    args = {k: str(v) for k, v in vars(filters).items() if v and not (k == "sort"
                                                                and v == "-updated")}
    return Page(rows, number, total, filters, args)
