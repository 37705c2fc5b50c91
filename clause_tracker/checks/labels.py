"""What users read for the compliance codes."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

TRIGGER_LABELS = {
    "interval": _l("Routine check"),
    "renewal": _l("Renewal or option"),
    "declaration_expiry": _l("Declaration expired"),
    "clause_change": _l("New clause version"),
    "subcontractor": _l("New subcontractor"),
    "funding_period": _l("New funding period"),
    "sample": _l("Random sample"),
    "complaint": _l("Complaint"),
}
STAGE_LABELS = {
    "scheduled": _l("Scheduled"),
    "due": _l("Due"),
    "overdue": _l("Overdue"),
    "findings": _l("Findings recorded: the hearing is to be held"),
    "heard": _l("Hearing held: the breach is to be decided"),
    "breach": _l("Breach confirmed: measures follow"),
    "done": _l("Done"),
}
DECISION_LABELS = {
    "no_breach": _l("No breach of the clause"),
    "breach_confirmed": _l("Breach of the clause confirmed"),
}
OUTCOME_LABELS = {
    "compliant": _l("Compliant: no findings"),
    "findings": _l("Findings"),
}
MEASURE_LABELS = {
    "action_plan": _l("Agreed action plan with a deadline"),
    "penalty": _l("Contractual penalty"),
    "termination": _l("Termination of the contract"),
    "revocation": _l("Revocation of the grant"),
    "exclusion": _l("Exclusion from awards"),
    "self_cleaning": _l("Self-cleaning (§ 125 GWB)"),
}
COMPLETION_LABELS = {
    "on_time": _l("Done on time"),
    "late": _l("Done late"),
    "not_done": _l("Not done"),
}
MEASURE_STATE_LABELS = {
    "proposed": _l("Proposed, awaiting a second person's decision"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
}
