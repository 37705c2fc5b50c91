"""Labels of the compliance states and the texts of their reasons."""

from flask_babel import lazy_gettext as _l

from clause_tracker.compliance.state import (
    COMPLIANT,
    EXEMPT,
    FALLBACK_REASON,
    NON_COMPLIANT,
    PENDING,
)

STATE_LABELS = {
    EXEMPT: _l("Exempt"),
    COMPLIANT: _l("Compliant"),
    PENDING: _l("Pending"),
    NON_COMPLIANT: _l("Not compliant"),
}

REASON_TEXTS = {
    "exemption_approved": _l("An exemption was approved (see its reason)."),
    "no_clause": _l("Awarded without the clause attached."),
    "exemption_voided": _l("The exemption is void: the values it was approved for changed. "
                           "Attach the clause and obtain a declaration, or have a new "
                           "exemption approved."),
    "not_required_voided": _l("“No declaration required” is void: the values it was decided "
                              "on changed. Request a declaration."),
    "action_plan_overdue": _l("An agreed action plan is past its deadline and not recorded "
                              "as done."),
    "breach_open_measure": _l("A breach of the clause was confirmed and an approved measure "
                              "is still in force."),
    "breach_confirmed": _l("A breach of the clause was confirmed; no measure has been "
                           "approved yet."),
    "check_breach_open_measure": _l("A compliance check confirmed a breach of the clause after "
                                    "the hearing, and a measure decided on it is in force."),
    "check_breach_confirmed": _l("A compliance check confirmed a breach of the clause after "
                                 "the hearing; no measure has been approved yet."),
    "signed_copy_deviates": _l("The clause in the signed copy differs from the published "
                               "text."),
    "signed_copy_clause_missing": _l("The signed copy does not carry the clause."),
    "signed_copy_tracked_changes": _l("The signed copy has tracked changes in the clause that "
                                      "were never accepted or rejected."),
    "signed_copy_overdue": _l("The signed copy was not filed and verified by its due day."),
    "signed_copy_unconfirmed": _l("The scan of the signed copy awaits confirmation, or its "
                                  "manual check a second person's approval."),
    "signed_copy_awaited": _l("The signed copy carrying the clause is awaited."),
    "declaration_rejected": _l("A declaration was rejected and not yet requested again."),
    "declaration_overdue": _l("A requested declaration is past its deadline."),
    "declaration_expired": _l("A declaration has expired."),
    "check_overdue": _l("A compliance check is overdue."),
    "draft_without_clause": _l("Draft: the clause is not attached yet."),
    "declaration_suspended": _l("A declaration is suspended during an investigation."),
    "declaration_received": _l("A declaration was received and awaits review."),
    "declaration_requested": _l("The clause is attached and a declaration is requested "
                                "within its deadline."),
    "check_due": _l("A compliance check is due."),
    "declaration_valid": _l("The clause is attached and the declaration is accepted "
                            "and valid."),
    "declaration_not_required": _l("The clause is attached; no declaration is required "
                                   "(below the unit's threshold or exempt)."),
    "draft_without_declaration": _l("Draft: no declaration requested yet."),
    FALLBACK_REASON: _l("Awarded without a declaration."),
}


def reason_text(reason: str) -> str:
    return str(REASON_TEXTS.get(reason, reason))
