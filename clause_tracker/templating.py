"""What every template may use: the labels of every package's codes (each package keeps its
labels in its own `labels` module; this is the one place that hands them to Jinja), and a
few helpers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask, current_app
from flask_babel import lazy_gettext as _l

from clause_tracker.agreements import labels as agreement_labels
from clause_tracker.agreements.models import STATUSES
from clause_tracker.audit.labels import ERASED_BY_LABELS, PERSONAL_FIELD_LABELS
from clause_tracker.auth.labels import ROLE_LABELS
from clause_tracker.checks import labels as check_labels
from clause_tracker.clock import utcnow
from clause_tracker.compliance import labels as compliance_labels
from clause_tracker.compliance.state import STATES
from clause_tracker.declarations import lifecycle
from clause_tracker.declarations.labels import PARTY_LABELS
from clause_tracker.documents.web.labels import STATUS_LABELS as DOCUMENT_STATUS_LABELS
from clause_tracker.main.forms import LanguageForm
from clause_tracker.overview.tables import shown

VARIANT_LABELS = {
    "procurement": _l("Contracts (supplies, services, works)"),
    "grant": _l("Grants (condition in the grant notice)"),
    "subcontract": _l("Subcontracts (passed on by contractors)"),
    "self_commitment": _l("Voluntary self-commitment of grantees"),
}
LANGUAGE_LABELS = {"de": _l("German"), "en": _l("English")}


def has_endpoint(name: str) -> bool:
    return name in current_app.view_functions


def lookup(table: Mapping[Any, object]) -> Callable[[str | None], str]:
    """code → its label in the current language (the code itself where none is known)."""
    return lambda code: str(table.get(code or "", code or ""))


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        has_endpoint=has_endpoint, now_utc=utcnow, shown=shown, language_form=LanguageForm,
        role_label=lookup(ROLE_LABELS),
        personal_field_label=lookup(PERSONAL_FIELD_LABELS),
        erased_by_label=lookup(ERASED_BY_LABELS),
        variant_label=lookup(VARIANT_LABELS),
        language_label=lookup(LANGUAGE_LABELS),
        kind_label=lookup(agreement_labels.KIND_LABELS),
        status_label=lookup(agreement_labels.STATUS_LABELS),
        status_action_label=lookup(agreement_labels.STATUS_ACTION_LABELS),
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
        party_label=lookup(PARTY_LABELS),
        document_status_label=lookup(DOCUMENT_STATUS_LABELS),
        check_labels=check_labels,
        agreement_statuses=STATUSES,
        compliance_states=STATES,
    )
