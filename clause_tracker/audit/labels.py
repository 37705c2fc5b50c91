"""Labels of the personal fields an audit event may carry (shown beside its summary)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

PERSONAL_FIELD_LABELS = {
    "signer_name": _l("Signed by"),
    "signer_function": _l("Function of the signer"),
    "evidence_file": _l("File name"),
    "filename": _l("File name"),
    "name": _l("Name"),
    "function": _l("Function"),
    "email": _l("E-mail"),
    "note": _l("Note"),
    "notes": _l("Notes"),
    "findings": _l("Findings"),
    "reason": _l("Reason"),
    "case_reference": _l("Case reference"),
}
ERASED_BY_LABELS = {"retention": _l("after the retention period")}
CHAIN_PROBLEM_LABELS = {
    "edited": _l("changed after it was written"),
    "removed": _l("events missing"),
    "reordered": _l("order changed"),
    "anchor_log": _l("the anchor log cannot be read"),
}
# The actors that are no account (audit.services.SYSTEM, a sign-in under an unknown name).
ACTOR_ROLE_LABELS = {"system": _l("System"), "anonymous": _l("Not signed in")}
# The names of those actors (the city's directory signs people in and keeps their accounts).
ACTOR_NAME_LABELS = {**ACTOR_ROLE_LABELS, "directory": _l("City directory (LDAP)")}


def actor_label(name: str, role: str, actor_id: int | None) -> str:
    """Who did it, as the reader reads it: an account by its name, the system by its label."""
    if actor_id is None and name in ACTOR_NAME_LABELS:
        return str(ACTOR_NAME_LABELS[name])
    return name
