"""What holds an award back: the agreement's own gaps, and those that packages above the
agreements report through guards the application registers at start (create_app).

A declaration in place is such a guard: declarations belong to agreements and are read
through them, so the agreements cannot import the declarations; the guard is wired once,
and an app without its guards refuses to award rather than award unguarded."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date

from flask import Flask, current_app
from flask_babel import lazy_gettext as _l

from clause_tracker.agreements.models import GUARDED_STATUSES, Agreement
from clause_tracker.clock import today

AwardGuard = Callable[[Agreement, date], list[str]]
# Told when values a decision was made on changed (agreement, the changes): they void what
# they decided on that agreement and write their own audit events.
BasisListener = Callable[[Agreement, dict[str, list[object]]], None]
_EXTENSION = "clause_tracker.award_guards"
_LISTENERS = "clause_tracker.basis_listeners"


def init_app(app: Flask, award_guards: Iterable[AwardGuard],
             basis_listeners: Iterable[BasisListener] = ()) -> None:
    app.extensions[_EXTENSION] = tuple(award_guards)
    app.extensions[_LISTENERS] = tuple(basis_listeners)


def basis_changed(agreement: Agreement, changes: dict[str, list[object]]) -> None:
    """Tell the packages above that values their decisions rest on changed."""
    for listener in current_app.extensions.get(_LISTENERS, ()):
        listener(agreement, changes)


def award_blockers(agreement: Agreement, status: str, on: date | None = None) -> list[str]:
    """Why the agreement may not enter `status` yet (empty: it may)."""
    if status not in GUARDED_STATUSES:
        return []
    day = on or today()
    problems = []
    if agreement.counterparty_id is None:
        problems.append(str(_l("Name the contractor or grantee.")))
    if agreement.clause_version_id is None and agreement.exemption_approved_at is None:
        problems.append(str(_l("Attach the clause (or have an exemption approved).")))
    for guard in current_app.extensions[_EXTENSION]:
        problems.extend(guard(agreement, day))
    return problems
