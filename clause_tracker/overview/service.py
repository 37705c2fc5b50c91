"""The overview for one user: figures (stored while the records are unchanged) → tables
and charts.

The figures are a function of (scope, period, today, newest record-changing audit event) —
snapshots.py says why — so they are stored in the database (overview_snapshots) under that
key, shared by all workers and filled ahead of time by the scheduler after each change. A key
that is not stored yet is computed and stored by the request that asks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from markupsafe import Markup

from clause_tracker.audit.services import newest_change
from clause_tracker.auth.models import User
from clause_tracker.auth.visibility import unit_scope
from clause_tracker.overview import snapshots
from clause_tracker.overview.charts import bar_chart
from clause_tracker.overview.metrics import Figures, Period
from clause_tracker.overview.tables import Table, figure_tables, shown


def figures(user: User | None, period: Period, day: date) -> Figures:
    """The stored figures of the user's scope, or computed (and stored) when not yet there."""
    unit = unit_scope(user)
    last_change = newest_change()
    key = snapshots.key_of(unit, period, day, last_change)
    return snapshots.load(key) or snapshots.compute(unit, period, day, last_change, key)


@dataclass
class OverviewPage:
    data: Figures
    tables: list[Table]
    charts: dict[str, Markup]

    def table(self, key: str) -> Table:
        return next(t for t in self.tables if t.key == key)


def overview(user: User, period: Period, day: date) -> OverviewPage:

    data = figures(user, period, day)
    tables = figure_tables(data)
    by_key = {t.key: t for t in tables}
    charts = {
        "coverage_by_unit": bar_chart(by_key["coverage_by_unit"], 0, 4,
                                      _("Coverage per unit, by count"), shown, "chart-units"),
        "trend": bar_chart(by_key["trend"], 0, 3,
                           _("Coverage by quarter, by count"), shown, "chart-trend"),
    }
    return OverviewPage(data, tables, charts)
