"""Helpers every template may use."""

from __future__ import annotations

from flask import Flask, current_app
from flask_babel import lazy_gettext as _l

from clause_tracker.audit.services import utcnow

VARIANT_LABELS = {
    "procurement": _l("Contracts (supplies, services, works)"),
    "grant": _l("Grants (condition in the grant notice)"),
    "subcontract": _l("Subcontracts (passed on by contractors)"),
    "self_commitment": _l("Voluntary self-commitment of grantees"),
}
LANGUAGE_LABELS = {"de": _l("German"), "en": _l("English")}


def has_endpoint(name: str) -> bool:
    return name in current_app.view_functions


def role_label(role: str) -> str:
    from clause_tracker.auth.forms import ROLE_LABELS

    # Keyed by Role, a StrEnum: the plain string finds its member.
    for member, label in ROLE_LABELS.items():
        if member == role:
            return str(label)
    return role


def variant_label(variant: str) -> str:
    return str(VARIANT_LABELS.get(variant, variant))


def language_label(language: str) -> str:
    return str(LANGUAGE_LABELS.get(language, language))


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        has_endpoint=has_endpoint, role_label=role_label, now_utc=utcnow,
        variant_label=variant_label, language_label=language_label,
    )
