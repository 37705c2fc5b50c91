"""The overview for one user: figures (stored while the records are unchanged) → tables
and charts.

The figures are a function of (scope, period, today, newest audit event) — snapshots.py
says why — so they are kept under that key at two levels: in this worker's memory (numbers,
and the rendered tables per language), and in the database (overview_snapshots), which all
workers share and the scheduler fills ahead of time after each change. A key that is found
nowhere is computed and stored.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from flask import current_app, render_template, request, session
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup

from clause_tracker.audit.services import newest_change
from clause_tracker.auth.models import User
from clause_tracker.auth.visibility import unit_scope
from clause_tracker.extensions import db
from clause_tracker.overview import snapshots
from clause_tracker.overview.charts import bar_chart
from clause_tracker.overview.metrics import Period, Registry
from clause_tracker.overview.tables import Table, registry_tables, shown

CACHE_SIZE = 64
PAGE_SECONDS = 600
_cache: OrderedDict[tuple, Registry] = OrderedDict()
_html_cache: OrderedDict[tuple, Markup] = OrderedDict()
_page_cache: OrderedDict[tuple, tuple[float, str]] = OrderedDict()
_lock = threading.Lock()


def cache_key(user: User | None, period: Period, day: date) -> tuple:
    """What the figures are a function of: one indexed look-up of the newest audit event,
    the rest is in memory. The database's URL keeps two apps in one process apart (tests)."""
    unit = unit_scope(user)
    mark = newest_change()
    return (db.engine.url.render_as_string(), unit, period, day, mark,
            snapshots.key_of(unit, period, day, mark))


def forget() -> None:
    """Empty this worker's memory (a new worker starts so; the database keeps snapshots)."""
    with _lock:
        for cache in (_cache, _html_cache, _page_cache):
            cache.clear()


def _remember(cache: OrderedDict, key: tuple, value):
    with _lock:
        cache[key] = value
        cache.move_to_end(key)
        while len(cache) > CACHE_SIZE:
            cache.popitem(last=False)
    return value


def _enabled() -> bool:
    return current_app.config.get("OVERVIEW_CACHE", True)


def _recall(cache: OrderedDict, key: tuple):
    if not _enabled():
        return None
    with _lock:
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
    return None


def figures(user: User | None, period: Period, day: date, key: tuple | None = None) -> Registry:
    key = key or cache_key(user, period, day)
    data = _recall(_cache, key)
    if data is None:
        _, unit, _, _, mark, stored_key = key
        data = (snapshots.load(stored_key) if _enabled() else None) \
            or snapshots.compute(unit, period, day, mark, stored_key)
        _remember(_cache, key, data)
    return data


def figures_html(user: User, period: Period, day: date, key: tuple | None = None) -> Markup:
    """The rendered figures (tables and charts) of the overview page, cached like the numbers
    and per locale. Only this fragment is cached, not the page: the page around it carries
    the user's name and per-session CSRF tokens. Rendering the tables (a drill-down link per
    number) cost about as much as reading the cached numbers did not, so under load the
    cache of numbers alone left the page at a few percent of a minimal route's throughput."""

    key = key or cache_key(user, period, day)
    html_key = (*key, str(get_locale()))
    html = _recall(_html_cache, html_key)
    if html is None:
        page = overview(user, period, day, key)
        # render_template's output is escaped by Jinja's autoescape: marking it safe does
        # not let any record text through unescaped.
        rendered = render_template("overview/_figures.html", page=page)
        html = _remember(_html_cache, html_key, Markup(rendered))  # noqa: S704
    return html


def page(user: User, period: Period, day: date, render: Callable[[Markup], str]) -> str:
    """The whole overview page of one session, kept for PAGE_SECONDS while its figures are
    unchanged. Besides the figures, the page shows the user (name, role, unit, menu: a
    change to the user is audited, so it changes the figures' key too), the language, the
    path, and the session's CSRF token in its forms — all in the key, so one session's
    page is never served to another. The tokens are at most PAGE_SECONDS old (they are
    valid for WTF_CSRF_TIME_LIMIT). A page with flashed messages is rendered every time
    (rendering consumes them); so is the first page of a session without a token yet.
    `render(figures_html)` renders the page around the figures."""

    token = session.get("csrf_token")
    if not _enabled() or token is None or session.get("_flashes"):
        return render(figures_html(user, period, day))
    key = cache_key(user, period, day)
    page_key = (*key, str(get_locale()), user.id, user.session_token, token,
                request.full_path)
    now = time.monotonic()
    kept = _recall(_page_cache, page_key)
    if kept is not None and now - kept[0] < PAGE_SECONDS:
        return kept[1]
    html = render(figures_html(user, period, day, key))
    _remember(_page_cache, page_key, (now, html))
    return html


@dataclass
class OverviewPage:
    data: Registry
    tables: list[Table]
    charts: dict[str, Markup]

    def table(self, key: str) -> Table:
        return next(t for t in self.tables if t.key == key)


def overview(user: User, period: Period, day: date, key: tuple | None = None) -> OverviewPage:

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
