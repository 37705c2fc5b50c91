"""THE transition table of declarations. Nothing else changes a state.

not_required (reason: below threshold, exempt) → voided when the values it was decided on
change (→ requested) | requested → received → accepted | rejected
(→ requested again); accepted → expired (→ requested again) | superseded;
accepted or cleared → suspended → cleared | breach_confirmed.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from clause_tracker.versioning import RefusedChange

STATES = ("not_required", "voided", "requested", "received", "accepted", "rejected", "expired",
          "superseded", "suspended", "cleared", "breach_confirmed")

# (from state, action) → to state
TRANSITIONS: dict[tuple[str, str], str] = {
    ("not_required", "request"): "requested",
    ("not_required", "void"): "voided",
    ("voided", "request"): "requested",
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
# Actions the system takes, never offered as a button.
SYSTEM_ACTIONS = frozenset({"void"})

STATE_LABELS = {
    "not_required": _l("Not required"),
    "voided": _l("Void: the values it was decided on changed"),
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
    "void": _l("Void"),
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


def target(state: str, action: str, by_hand: bool = False) -> str:
    """The state `action` leads to from `state`; refused where the table has no such step
    (or, `by_hand`, where the step is the system's own)."""
    try:
        if by_hand and action in SYSTEM_ACTIONS:
            raise KeyError(action)
        return TRANSITIONS[(state, action)]
    except KeyError:
        raise TransitionRefused(
            _l("A declaration in state “%(state)s” cannot be changed by “%(action)s”.",
               state=STATE_LABELS.get(state, state), action=ACTION_LABELS.get(action, action))
        ) from None


def actions_from(state: str) -> list[str]:
    """What a user may do from `state` (the system's own actions are not offered)."""
    return [action for (source, action) in TRANSITIONS
            if source == state and action not in SYSTEM_ACTIONS]
