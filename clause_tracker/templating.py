"""What every template may use: the labels of every package's codes (each package keeps its
labels in its own `labels` module; this is the one place that hands them to Jinja), and a
few helpers."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from flask import Flask, current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from clause_tracker.agreements import labels as agreement_labels
from clause_tracker.agreements.models import STATUSES, Agreement
from clause_tracker.audit import messages as audit_messages
from clause_tracker.audit.labels import (
    ACTOR_ROLE_LABELS,
    CHAIN_PROBLEM_LABELS,
    ERASED_BY_LABELS,
    PERSONAL_FIELD_LABELS,
    actor_label,
)
from clause_tracker.auth.labels import ROLE_LABELS
from clause_tracker.auth.models import User
from clause_tracker.checks import labels as check_labels
from clause_tracker.clauses.labels import LANGUAGE_LABELS, VARIANT_LABELS
from clause_tracker.clock import utcnow
from clause_tracker.compliance import labels as compliance_labels
from clause_tracker.compliance.state import STATES
from clause_tracker.declarations import lifecycle
from clause_tracker.declarations.labels import party_label
from clause_tracker.documents.web.labels import STATUS_LABELS as DOCUMENT_STATUS_LABELS
from clause_tracker.documents.web.labels import warning_text
from clause_tracker.extensions import db
from clause_tracker.main.forms import LanguageForm
from clause_tracker.overview.tables import shown


def has_endpoint(name: str) -> bool:
    return name in current_app.view_functions


def lookup(table: Mapping[Any, object]) -> Callable[[str | None], str]:
    """code → its label in the current language (the code itself where none is known)."""
    return lambda code: str(table.get(code or "", code or ""))


def _references(ids: Iterable[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    ids = sorted(ids)
    for start in range(0, len(ids), 500):
        found |= dict(db.session.execute(select(Agreement.id, Agreement.reference)
                                         .where(Agreement.id.in_(ids[start:start + 500])))
                      .tuples().all())
    return found


def _usernames(ids: Iterable[int]) -> dict[int, str]:
    ids = sorted(ids)
    return dict(db.session.execute(select(User.id, User.username)
                                   .where(User.id.in_(ids))).tuples().all())


def _sweep_steps() -> dict[str, Any]:
    steps: dict[str, Any] = dict(agreement_labels.SWEEP_STEP_LABELS)
    for trigger, label in check_labels.TRIGGER_LABELS.items():
        steps[f"schedule_{trigger}"] = _l("checks scheduled (%(trigger)s)", trigger=label)
    return steps


def register_audit_labels() -> None:
    """The codes an audit message may hold, each through its package's labels."""
    tables: dict[str, Mapping[Any, Any]] = {
        "status": agreement_labels.STATUS_LABELS,
        "grant_status": agreement_labels.GRANT_STATUS_LABELS,
        "kind": agreement_labels.KIND_LABELS,
        "clause_method": agreement_labels.CLAUSE_METHOD_LABELS,
        "not_required": agreement_labels.NOT_REQUIRED_LABELS,
        "field": agreement_labels.FIELD_LABELS,
        "declaration_state": lifecycle.STATE_LABELS,
        "stage": check_labels.STAGE_LABELS,
        "outcome": check_labels.OUTCOME_LABELS,
        "decision": check_labels.DECISION_LABELS,
        "measure": check_labels.MEASURE_LABELS,
        "completion": check_labels.COMPLETION_LABELS,
        "document_status": DOCUMENT_STATUS_LABELS,
        "role": {**ROLE_LABELS, **ACTOR_ROLE_LABELS},
        "language": LANGUAGE_LABELS,
        "variant": VARIANT_LABELS,
        "sweep_step": _sweep_steps(),
    }
    for kind, table in tables.items():
        audit_messages.register_labels(kind, table)
    audit_messages.register_reference_lookup(_references)
    audit_messages.register_username_lookup(_usernames)


def status_label(code: str | None, kind: str | None = None) -> str:
    """An agreement's status; a grant's award is its notice (Bewilligung)."""
    if kind == "grant" and code in agreement_labels.GRANT_STATUS_LABELS:
        return str(agreement_labels.GRANT_STATUS_LABELS[code])
    return str(agreement_labels.STATUS_LABELS.get(code or "", code or ""))


def status_action_label(code: str | None, kind: str | None = None) -> str:
    if kind == "grant" and code in agreement_labels.GRANT_STATUS_ACTION_LABELS:
        return str(agreement_labels.GRANT_STATUS_ACTION_LABELS[code])
    return str(agreement_labels.STATUS_ACTION_LABELS.get(code or "", code or ""))


def init_app(app: Flask) -> None:
    register_audit_labels()
    app.jinja_env.globals.update(
        has_endpoint=has_endpoint, now_utc=utcnow, shown=shown, language_form=LanguageForm,
        role_label=lookup({**ROLE_LABELS, **ACTOR_ROLE_LABELS}),
        actor_label=actor_label,
        personal_field_label=lookup(PERSONAL_FIELD_LABELS),
        erased_by_label=lookup(ERASED_BY_LABELS),
        chain_problem_label=lookup(CHAIN_PROBLEM_LABELS),
        variant_label=lookup(VARIANT_LABELS),
        language_label=lookup(LANGUAGE_LABELS),
        kind_label=lookup(agreement_labels.KIND_LABELS),
        status_label=status_label,
        status_action_label=status_action_label,
        audit_messages=audit_messages.render_events,
        audit_action_label=audit_messages.action_label,
        audit_object_label=audit_messages.object_label,
        contract_kind_label=lookup(agreement_labels.CONTRACT_KIND_LABELS),
        procedure_label=lookup(agreement_labels.PROCEDURE_LABELS),
        clause_method_label=lookup(agreement_labels.CLAUSE_METHOD_LABELS),
        funding_kind_label=lookup(agreement_labels.FUNDING_KIND_LABELS),
        funding_method_label=lookup(agreement_labels.FUNDING_METHOD_LABELS),
        not_required_label=lookup(agreement_labels.NOT_REQUIRED_LABELS),
        compliance_label=lookup(compliance_labels.STATE_LABELS),
        compliance_reason=compliance_labels.reason_text,
        declaration_state_label=lookup(lifecycle.STATE_LABELS),
        declaration_action_label=lookup(lifecycle.ACTION_LABELS),
        declaration_actions=lifecycle.actions_from,
        party_label=party_label,
        document_status_label=lookup(DOCUMENT_STATUS_LABELS),
        document_warning=warning_text,
        check_labels=check_labels,
        agreement_statuses=STATUSES,
        compliance_states=STATES,
    )
