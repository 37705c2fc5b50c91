"""The registry list's active filters as the reader reads them (chips above the list)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l

from clause_tracker.agreements.labels import KIND_LABELS, STATUS_LABELS
from clause_tracker.checks.labels import MEASURE_LABELS
from clause_tracker.clauses.models import ClauseVersion
from clause_tracker.compliance.labels import STATE_LABELS
from clause_tracker.extensions import db
from clause_tracker.i18n import format_day, format_quarter
from clause_tracker.orgunits.models import OrgUnit
from clause_tracker.request_chips import Chip, chips, clear_url

FILTER_LABELS = {
    "q": _l("Search"), "unit": _l("Unit"), "kind": _l("Kind"), "status": _l("Status"),
    "compliance": _l("Compliance"), "scope": _l("Scope"), "unit_kind": _l("Type of unit"),
    "declaration": _l("Declaration"), "expiring_within": _l("Declaration expiring"),
    "exemption": _l("Exemption"), "clause_version": _l("Clause version"),
    "clause": _l("Clause"), "quarter": _l("Quarter of the decision"),
    "decided_from": _l("Decided from"), "decided_to": _l("Decided until"),
    "check": _l("Checks"), "measure": _l("Measures"), "complaint": _l("Complaints"),
}
# The drill-down filters the form has no field for: kept as hidden fields when it is sent.
DRILLDOWN = ("scope", "unit_kind", "declaration", "expiring_within", "exemption",
             "clause_version", "clause", "quarter", "decided_from", "decided_to", "check",
             "measure", "complaint")
VALUE_LABELS: dict[str, Mapping[str, Any]] = {
    "kind": KIND_LABELS,
    "status": STATUS_LABELS,
    "compliance": STATE_LABELS,
    "scope": {"in_scope": _l("in scope (awarded, not exempt)")},
    "unit_kind": {"department": _l("Department"), "eigenbetrieb": _l("Municipal enterprise")},
    "declaration": {"requested": _l("requested"), "returned": _l("returned"),
                    "on_time": _l("returned on time")},
    "clause": {"attached": _l("attached"), "verified": _l("verified in the signed copy")},
    "check": {"overdue": _l("overdue"), "compliant": _l("compliant, no findings"),
              "findings": _l("with findings")},
    "measure": {**MEASURE_LABELS, "exclusion_in_force": _l("exclusion in force")},
    "complaint": {"linked": _l("complaint linked")},
}


def _table(name: str) -> Callable[[str], str]:
    table = VALUE_LABELS[name]
    return lambda code: str(table.get(code, code))


def _unit(value: str) -> str:
    unit = db.session.get(OrgUnit, int(value)) if value.isdigit() else None
    return f"{unit.code} – {unit.name}" if unit else value


def _clause_version(value: str) -> str:
    version = db.session.get(ClauseVersion, int(value)) if value.isdigit() else None
    return version.version if version else value


def _day(value: str) -> str:
    try:
        return format_day(date.fromisoformat(value))
    except ValueError:
        return value


def _days(value: str) -> str:
    return str(_l("within %(days)s days", days=value))


def registry_chips(args: Mapping[str, str]) -> tuple[list[Chip], str]:
    values: dict[str, Callable[[str], Any]] = {name: _table(name) for name in VALUE_LABELS}
    values |= {"unit": _unit, "clause_version": _clause_version, "decided_from": _day,
               "decided_to": _day, "quarter": format_quarter, "expiring_within": _days}
    return (chips("registry.index", args, FILTER_LABELS, values),
            clear_url("registry.index", args))
