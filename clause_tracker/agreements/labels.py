"""Display names of the registry's codes (translated; the codes stay English)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from clause_tracker.documents import grant_terms

KIND_LABELS = {"contract": _l("Contract"), "grant": _l("Grant")}
STATUS_LABELS = {
    "draft": _l("Draft"),
    "awarded": _l("Awarded"),
    "active": _l("Active"),
    "ended": _l("Ended"),
    "terminated": _l("Terminated"),
    "revoked": _l("Revoked"),
}
CONTRACT_KIND_LABELS = {
    "supplies": _l("Supplies"),
    "services": _l("Services"),
    "works": _l("Works"),
    "concession": _l("Concession"),
}
PROCEDURE_LABELS = {
    "open": _l("Open procedure"),
    "restricted": _l("Restricted procedure"),
    "negotiated": _l("Negotiated procedure"),
    "competitive_dialogue": _l("Competitive dialogue"),
    "innovation_partnership": _l("Innovation partnership"),
    "public_tender": _l("Public tender (below EU thresholds)"),
    "restricted_tender": _l("Restricted tender (below EU thresholds)"),
    "negotiated_award": _l("Negotiated award (below EU thresholds)"),
    "direct_award": _l("Direct award"),
}
CLAUSE_METHOD_LABELS = {
    "contract_document": _l("In the contract document"),
    "special_conditions": _l("In the special conditions of contract"),
    "grant_notice": _l("In the grant notice"),
}
STATUS_ACTION_LABELS = {
    "awarded": _l("Record the award"),
    "active": _l("Mark active"),
    "ended": _l("Mark ended"),
    "terminated": _l("Mark terminated"),
    "revoked": _l("Mark revoked"),
}
NOT_REQUIRED_LABELS = {
    "below_threshold": _l("below the unit's threshold"),
    "exempt": _l("exempt"),
}
# A grant is decided by a notice (Bewilligung), not awarded (Zuschlag).
GRANT_STATUS_LABELS = {
    "awarded": _l("Granted"),
}
GRANT_STATUS_ACTION_LABELS = {
    "awarded": _l("Record the grant notice"),
}
# The records' fields, as the audit trail names the changed ones.
FIELD_LABELS = {
    "reference": _l("Reference"),
    "subject": _l("Subject"),
    "status": _l("Status"),
    "org_unit_id": _l("Unit"),
    "counterparty_id": _l("Contractor or grantee"),
    "value": _l("Value"),
    "start_date": _l("Start"),
    "end_date": _l("End"),
    "decided_on": _l("Date of decision"),
    "contract_kind": _l("Kind of contract"),
    "procedure": _l("Procedure"),
    "estimated_value": _l("Estimated value"),
    "vat_rate": _l("VAT rate"),
    "renewal_options": _l("Renewal options"),
    "programme": _l("Programme or fund"),
    "proof_due_on": _l("Proof of use due"),
    "signed_copy_due_on": _l("Signed copy due"),
    "name": _l("Name"),
    "legal_form": _l("Legal form"),
    "address": _l("Address"),
    "register_number": _l("Register number"),
    "vat_id": _l("VAT ID"),
    "document_name": _l("Name on documents"),
}
SWEEP_STEP_LABELS = {
    "expire_declarations": _l("declarations expired"),
    "mark_overdue": _l("checks overdue"),
    "mark_plans_overdue": _l("action plans overdue"),
    "mark_due": _l("checks due"),
}
# Kinds and methods of funding: defined with the documents that name them.
FUNDING_KIND_LABELS = grant_terms.FUNDING_KIND_LABELS
FUNDING_METHOD_LABELS = grant_terms.FUNDING_METHOD_LABELS
FUNDING_KIND_NOTICE = grant_terms.FUNDING_KIND_NOTICE
FUNDING_METHOD_NOTICE = grant_terms.FUNDING_METHOD_NOTICE
