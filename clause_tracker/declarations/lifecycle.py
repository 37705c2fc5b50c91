"""THE transition table of declarations. Nothing else changes a state.

not_required (reason: below threshold, exempt) | requested → received → accepted | rejected
(→ requested again); accepted → expired (→ requested again) | superseded;
accepted or cleared → suspended → cleared | breach_confirmed.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from clause_tracker.versioning import RefusedChange

STATES = ("not_required", "requested", "received", "accepted", "rejected", "expired",
          "superseded", "suspended", "cleared", "breach_confirmed")

# (from state, action) → to state
TRANSITIONS: dict[tuple[str, str], str] = {
    ("not_required", "request"): "requested",
    ("requested", "receive"): "received",
    ("received", "accept"): "accepted",
    ("received", "reject"): "rejected",
    ("rejected", "request"): "requested",
    ("accepted", "expire"): "expired",
    ("expired", "request"): "requested",
    ("accepted", "supersede"): "superseded",
    ("accepted", "suspend"): "suspended",
    ("cleared", "suspend"): "suspended",
    ("suspended", "clear"): "cleared",
    ("suspended", "confirm_breach"): "breach_confirmed",
}
ACTIONS = tuple(dict.fromkeys(action for _, action in TRANSITIONS))

# States in which a declaration is in hand and valid (until `valid_until`).
VALID_STATES = frozenset({"accepted", "cleared"})
# Actions that need more than a note: their own form.
ACTIONS_WITH_FORM = frozenset({"request", "receive"})

STATE_LABELS = {
    "not_required": _l("Not required"),
    "requested": _l("Requested"),
    "received": _l("Received"),
    "accepted": _l("Accepted"),
    "rejected": _l("Rejected"),
    "expired": _l("Expired"),
    "superseded": _l("Superseded"),
    "suspended": _l("Suspended (investigation)"),
    "cleared": _l("Cleared"),
    "breach_confirmed": _l("Breach confirmed"),
}
ACTION_LABELS = {
    "request": _l("Request again"),
    "receive": _l("Record receipt"),
    "accept": _l("Accept"),
    "reject": _l("Reject"),
    "expire": _l("Mark expired"),
    "supersede": _l("Mark superseded"),
    "suspend": _l("Suspend for an investigation"),
    "clear": _l("Clear"),
    "confirm_breach": _l("Confirm breach"),
}


class TransitionRefused(RefusedChange):
    """The action is not allowed from the declaration's current state."""


def target(state: str, action: str) -> str:
    try:
        return TRANSITIONS[(state, action)]
    except KeyError:
        raise TransitionRefused(
            _l("A declaration in state “%(state)s” cannot be changed by “%(action)s”.",
               state=STATE_LABELS.get(state, state), action=ACTION_LABELS.get(action, action))
        ) from None


def actions_from(state: str) -> list[str]:
    return [action for (source, action) in TRANSITIONS if source == state]
