"""The overview for one user: figures (cached while the records are unchanged) → tables
and charts.

Why a cache, and why it cannot disagree with the records: every change to the records is
written with its audit event in the same transaction (DESIGN.md §4), and audit event ids only
grow. The figures are therefore a function of (scope, period, today, newest audit event id);
with that as the key, a cached result is exactly what a fresh computation would give. The
cache holds numbers only (no translated text) and lives per worker process: losing it costs
one recomputation, never a wrong number.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date

from flask import current_app, render_template
from markupsafe import Markup
from sqlalchemy import select

from clause_tracker.audit.models import AuditEvent
from clause_tracker.auth.models import User
from clause_tracker.auth.permissions import Permission
from clause_tracker.extensions import db
from clause_tracker.overview import metrics
from clause_tracker.overview.charts import bar_chart
from clause_tracker.overview.metrics import Period, Registry
from clause_tracker.overview.tables import Table, registry_tables, shown

CACHE_SIZE = 64
_cache: OrderedDict[tuple, Registry] = OrderedDict()
_html_cache: OrderedDict[tuple, Markup] = OrderedDict()
_lock = threading.Lock()


def fingerprint() -> tuple[int, str] | None:
    """The newest audit event, by id and hash: changes whenever any record changes (the hash
    too, so a database emptied and refilled to the same length does not look unchanged)."""
    row = db.session.execute(select(AuditEvent.id, AuditEvent.hash)
                             .order_by(AuditEvent.id.desc()).limit(1)).first()
    return (row[0], row[1]) if row else None


def cache_key(user: User | None, period: Period, day: date) -> tuple:
    """What the figures are a function of (see the module docstring): one indexed look-up of
    the newest audit event, the rest is in memory."""
    scope = None if user is None or user.can(Permission.ALL_UNITS) else user.org_unit_id
    return (db.engine.url.render_as_string(), scope, period, day, fingerprint())


def _remember(cache: OrderedDict, key: tuple, value):
    with _lock:
        cache[key] = value
        cache.move_to_end(key)
        while len(cache) > CACHE_SIZE:
            cache.popitem(last=False)
    return value


def _recall(cache: OrderedDict, key: tuple):
    if not current_app.config.get("OVERVIEW_CACHE", True):
        return None
    with _lock:
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
    return None


def figures(user: User | None, period: Period, day: date, cached: bool = True,
            key: tuple | None = None) -> Registry:
    key = key or cache_key(user, period, day)
    data = _recall(_cache, key) if cached else None
    if data is None:
        data = _remember(_cache, key, metrics.registry(user, period, day))
    return data


def figures_html(user: User, period: Period, day: date) -> Markup:
    """The rendered figures (tables and charts) of the overview page, cached like the numbers
    and per locale. Only this fragment is cached, not the page: the page around it carries
    the user's name and per-session CSRF tokens. Rendering the tables (a drill-down link per
    number) cost about as much as reading the cached numbers did not, so under load the
    cache of numbers alone left the page at a few percent of a minimal route's throughput."""
    from flask_babel import get_locale

    key = cache_key(user, period, day)
    html_key = (*key, str(get_locale()))
    html = _recall(_html_cache, html_key)
    if html is None:
        page = overview(user, period, day, key)
        # render_template's output is escaped by Jinja's autoescape: marking it safe does
        # not let any record text through unescaped.
        rendered = render_template("overview/_figures.html", page=page)
        html = _remember(_html_cache, html_key, Markup(rendered))  # noqa: S704
    return html


@dataclass
class OverviewPage:
    data: Registry
    tables: list[Table]
    charts: dict[str, Markup]

    def table(self, key: str) -> Table:
        return next(t for t in self.tables if t.key == key)


def overview(user: User, period: Period, day: date, key: tuple | None = None) -> OverviewPage:
    from flask_babel import gettext as _

    data = figures(user, period, day, key=key)
    tables = registry_tables(data)
    by_key = {t.key: t for t in tables}
    charts = {
        "coverage_by_unit": bar_chart(by_key["coverage_by_unit"], 0, 4,
                                      _("Coverage per unit, by count"), shown, "chart-units"),
        "trend": bar_chart(by_key["trend"], 0, 3,
                           _("Coverage by quarter, by count"), shown, "chart-trend"),
    }
    return OverviewPage(data, tables, charts)
