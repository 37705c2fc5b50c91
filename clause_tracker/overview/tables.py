"""The overview as tables: ONE presentation that the page, the CSV and the XLSX export (and
the ECCAR report) all render, so they cannot show different numbers.

A cell may carry the registry-list arguments of its drill-down; the page turns them into a
link to agreements.index, whose count equals the cell's number (conditions.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from flask_babel import format_decimal, format_number
from flask_babel import lazy_gettext as _l

from clause_tracker.agreements.labels import KIND_LABELS
from clause_tracker.clauses.labels import key_label
from clause_tracker.i18n import format_day, format_money, format_quarter
from clause_tracker.overview.metrics import Figures, GroupCoverage, percent, quarters_between

INT, PCT, MONEY, TEXT, DATE = "int", "pct", "money", "text", "date"

UNIT_KIND_LABELS = {"department": _l("Department"),
                    "eigenbetrieb": _l("Municipal enterprise (Eigenbetrieb)")}
DECLARATION_LABELS = {
    "requested": _l("Declaration requested"),
    "returned": _l("Declaration returned"),
    "on_time": _l("Declaration returned on time"),
    "expiring_30": _l("Valid declaration expiring within 30 days"),
    "expiring_60": _l("Valid declaration expiring within 60 days"),
    "expiring_90": _l("Valid declaration expiring within 90 days"),
}


@dataclass
class Cell:
    value: int | Decimal | str | date | None
    kind: str = INT
    drill: dict[str, object] | None = None  # agreements.index arguments


@dataclass
class Table:
    key: str
    title: str
    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    note: str = ""

    def column(self, index: int) -> list[Cell]:
        return [row[index] for row in self.rows]


def text(value: object) -> Cell:
    return Cell(str(value), TEXT)


COVERAGE_COLUMNS = [
    _l("In scope"), _l("Covered"), _l("Coverage (count) %"), _l("Value in scope"),
    _l("Value covered"), _l("Coverage (value) %"), _l("Pending"), _l("Not compliant"),
    _l("Exempt"),
]


def tally_cells(tally: GroupCoverage, base: dict[str, object]) -> list[Cell]:
    scope = base | {"scope": "in_scope"}
    covered = scope | {"compliance": "compliant"}
    return [
        Cell(tally.in_scope, INT, scope),
        Cell(tally.covered, INT, covered),
        Cell(tally.share, PCT),
        Cell(tally.value_in_scope, MONEY, scope),
        Cell(tally.value_covered, MONEY, covered),
        Cell(tally.value_share, PCT),
        Cell(tally.pending, INT, scope | {"compliance": "pending"}),
        Cell(tally.non_compliant, INT, scope | {"compliance": "non_compliant"}),
        Cell(tally.exempt, INT, base | {"compliance": "exempt"}),
    ]


CLAUSE_COLUMNS = [
    _l("In scope"), _l("Clause attached"), _l("Clause verified in the signed copy"),
    _l("Verified (count) %"), _l("Value attached"), _l("Value verified"),
    _l("Verified (value) %"),
]


def clause_cells(tally: GroupCoverage, base: dict[str, object]) -> list[Cell]:
    scope = base | {"scope": "in_scope"}
    attached, verified = scope | {"clause": "attached"}, scope | {"clause": "verified"}
    return [
        Cell(tally.in_scope, INT, scope),
        Cell(tally.attached, INT, attached),
        Cell(tally.verified, INT, verified),
        Cell(percent(tally.verified, tally.in_scope), PCT),
        Cell(tally.value_attached, MONEY, attached),
        Cell(tally.value_verified, MONEY, verified),
        Cell(percent(tally.value_verified, tally.value_in_scope), PCT),
    ]


def figure_tables(data: Figures) -> list[Table]:
    period = data.period.args()
    coverage = data.coverage
    tables = []

    by_unit = Table("coverage_by_unit", str(_l("Coverage per unit")),
                    [str(_l("Unit")), str(_l("Type of unit"))] + [str(c) for c in COVERAGE_COLUMNS])
    for unit in data.units:
        by_unit.rows.append([text(f"{unit.code} – {unit.name}"),
                             text(UNIT_KIND_LABELS.get(unit.kind, unit.kind)),
                             *tally_cells(coverage.by_unit[unit.id], period | {"unit": unit.id})])
    tables.append(by_unit)

    by_type = Table("coverage_by_unit_type", str(_l("Coverage: departments and municipal "
                                                     "enterprises")),
                    [str(_l("Type of unit"))] + [str(c) for c in COVERAGE_COLUMNS])
    for kind, label in UNIT_KIND_LABELS.items():
        by_type.rows.append([text(label), *tally_cells(coverage.by_unit_kind[kind],
                                                        period | {"unit_kind": kind})])
    tables.append(by_type)

    by_kind = Table("coverage_by_kind", str(_l("Coverage: contracts and grants")),
                    [str(_l("Kind"))] + [str(c) for c in COVERAGE_COLUMNS])
    for kind, label in KIND_LABELS.items():
        by_kind.rows.append([text(label), *tally_cells(coverage.by_kind[kind],
                                                        period | {"kind": kind})])
    by_kind.rows.append([text(_l("Total")), *tally_cells(coverage.total, period)])
    tables.append(by_kind)

    clause = Table("clause_attached_verified",
                   str(_l("The clause: attached to the record, and verified in the signed copy")),
                   [str(_l("Unit or kind"))] + [str(c) for c in CLAUSE_COLUMNS],
                   note=str(_l("Attached: the record links the clause. Verified: the clause was "
                               "found as published in the signed copy returned (a confirmed OCR "
                               "reading or an approved manual check included).")))
    for unit in data.units:
        clause.rows.append([text(f"{unit.code} – {unit.name}"),
                            *clause_cells(coverage.by_unit[unit.id], period | {"unit": unit.id})])
    for kind, label in KIND_LABELS.items():
        clause.rows.append([text(label), *clause_cells(coverage.by_kind[kind],
                                                         period | {"kind": kind})])
    clause.rows.append([text(_l("Total")), *clause_cells(coverage.total, period)])
    tables.append(clause)

    trend = Table("trend", str(_l("Coverage by quarter of the decision")),
                  [str(_l("Quarter")), str(_l("In scope")), str(_l("Covered")),
                   str(_l("Coverage (count) %")), str(_l("Coverage (value) %"))])
    if coverage.by_quarter:
        quarters = sorted(coverage.by_quarter)
        for quarter in quarters_between(quarters[0], quarters[-1]):
            tally = coverage.by_quarter.get(quarter) or GroupCoverage()
            scope = period | {"quarter": quarter, "scope": "in_scope"}
            trend.rows.append([text(format_quarter(quarter)), Cell(tally.in_scope, INT, scope),
                               Cell(tally.covered, INT, scope | {"compliance": "compliant"}),
                               Cell(tally.share, PCT), Cell(tally.value_share, PCT)])
    tables.append(trend)

    counts = data.declarations.counts
    declarations = Table("declarations", str(_l("Declarations")),
                         [str(_l("Indicator")), str(_l("Agreements")),
                          str(_l("Share of requested %"))])
    for name, label in DECLARATION_LABELS.items():
        drill = period | ({"declaration": name} if not name.startswith("expiring_")
                          else {"expiring_within": int(name.removeprefix("expiring_"))})
        share = None
        if name == "returned":
            share = data.declarations.return_rate
        elif name == "on_time":
            share = data.declarations.on_time_rate
        declarations.rows.append([text(label), Cell(counts[name], INT, drill),
                                  Cell(share, PCT)])
    tables.append(declarations)

    exemptions = Table("exemptions", str(_l("Exemptions with reasons")),
                       [str(_l("Reason")), str(_l("Agreements")), str(_l("Value"))])
    for reason, count, value in data.exemptions:
        drill = period | {"exemption": reason}
        exemptions.rows.append([text(reason or "—"), Cell(count, INT, drill),
                                Cell(value, MONEY, drill)])
    tables.append(exemptions)

    versions = Table("clause_versions", str(_l("Clause versions in use")),
                     [str(_l("Clause version")), str(_l("Agreements"))])
    for version_id, label, count in data.clause_versions:
        versions.rows.append([text(key_label(label)), Cell(count, INT,
                                                period | {"clause_version": version_id})])
    tables.append(versions)
    if data.follow_up is not None:
        tables.extend(follow_up_tables(data, period))
    return tables


CHECK_LABELS = {
    "check_overdue": _l("Agreements with an overdue check"),
    "check_compliant": _l("Agreements with a check found compliant"),
    "check_findings": _l("Agreements with a check with findings"),
}
MEASURE_LABELS = {
    "action_plan": _l("Action plan"),
    "penalty": _l("Contractual penalty"),
    "termination": _l("Termination"),
    "revocation": _l("Revocation of the grant"),
    "exclusion": _l("Exclusion from awards"),
    "self_cleaning": _l("Self-cleaning"),
    "exclusion_in_force": _l("Exclusion from awards in force today"),
}


def follow_up_tables(data: Figures, period: dict[str, object]) -> list[Table]:
    follow = data.follow_up
    assert follow is not None
    counts = follow.agreements
    checks = Table("checks", str(_l("Compliance checks and outcomes")),
                   [str(_l("Indicator")), str(_l("Agreements"))])
    for name, label in CHECK_LABELS.items():
        checks.rows.append([text(label), Cell(counts[name], INT,
                                              period | {"check": name.removeprefix("check_")})])
    measures = Table("measures", str(_l("Measures approved")),
                     [str(_l("Measure")), str(_l("Agreements"))])
    for name, label in MEASURE_LABELS.items():
        measures.rows.append([text(label), Cell(counts[f"measure_{name}"], INT,
                                                period | {"measure": name})])
    exclusions = Table("exclusions", str(_l("Exclusions in force, with end dates")),
                       [str(_l("Contractor or grantee")), str(_l("Reference")),
                        str(_l("Excluded until"))])
    for party, reference, until in follow.exclusions:
        exclusions.rows.append([text(party), Cell(reference, TEXT, {"q": reference}),
                                Cell(until, DATE)])
    complaints = Table("complaints", str(_l("Linked complaints (counts only)")),
                       [str(_l("Indicator")), str(_l("Number"))])
    complaints.rows.append([text(_l("Agreements with a linked complaint")),
                            Cell(counts["complaint_linked"], INT,
                                 period | {"complaint": "linked"})])
    return [checks, measures, exclusions, complaints]


def shown(cell: Cell) -> str:
    """A cell as the page shows it, in the user's locale (German: 1.234 · 85,3 % · 1.234,56 €)."""


    if cell.value is None:
        return "—"
    if cell.kind == INT:
        return format_number(cell.value)
    if cell.kind == PCT:
        return f"{format_decimal(cell.value, '#,##0.0')} %"
    if cell.kind == MONEY and isinstance(cell.value, Decimal | int):
        return format_money(cell.value)
    if cell.kind == DATE and isinstance(cell.value, date):
        return format_day(cell.value)
    return str(cell.value)
