"""The documents desk, seen from a contract or grant: generate its document from the
record's fields, check a returned copy, list both with their results."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from clause_tracker.agreements.labels import FUNDING_KIND_NOTICE, FUNDING_METHOD_NOTICE
from clause_tracker.agreements.models import CONTRACT, Agreement
from clause_tracker.agreements.services import RegistryError
from clause_tracker.auth.models import User
from clause_tracker.documents.generate import percent_text
from clause_tracker.documents.web import services as desk
from clause_tracker.documents.web.models import DocumentRecord
from clause_tracker.extensions import db

# Concessions use the services template: it has the same fields.
TEMPLATE_OF_CONTRACT_KIND = {"supplies": "supplies", "services": "services", "works": "works",
                             "concession": "services"}


def template_values(agreement: Agreement, counterparty_address: str) -> tuple[str, dict]:
    """The DOCX template and its field values, from the record; refuses when one is missing."""
    missing = [label for label, value in (
        (_l("contractor or grantee"), agreement.counterparty),
        (_l("value"), agreement.value),
        (_l("start"), agreement.start_date),
        (_l("end"), agreement.end_date),
        (_l("date of decision"), agreement.decided_on),
    ) if value is None]
    if agreement.kind == CONTRACT:
        if agreement.vat_rate is None:
            missing.append(_l("VAT rate"))
    else:
        missing += [label for label, value in (
            (_l("proof of use due"), agreement.proof_due_on),
            (_l("programme or fund"), agreement.programme),
            (_l("kind of funding"), agreement.funding_kind),
            (_l("method of financing"), agreement.funding_method),
        ) if not value]
    counterparty = agreement.counterparty
    if missing or counterparty is None:
        raise RegistryError(_l("Fill in first: %(fields)s.",
                               fields=", ".join(str(m) for m in missing)))
    unit = agreement.org_unit
    authority, address = unit.letterhead_name, unit.postal_address
    common = {"reference": agreement.reference, "subject": agreement.subject,
              "value": agreement.value, "start_date": agreement.start_date,
              "end_date": agreement.end_date, "signature_date": agreement.decided_on}
    if agreement.kind == CONTRACT:
        assert agreement.vat_rate is not None  # in `missing` above
        template = TEMPLATE_OF_CONTRACT_KIND.get(agreement.contract_kind or "", "services")
        return template, common | {
            "contracting_authority": authority, "contracting_authority_address": address,
            "contractor": counterparty.name, "contractor_address": counterparty_address,
            "net_value": agreement.value, "vat_rate": percent_text(agreement.vat_rate),
            "vat_amount": agreement.vat_amount, "gross_value": agreement.gross_value,
        }
    return "grant", common | {
        "grantor": authority, "grantor_address": address, "grantee": counterparty.name,
        "grantee_address": counterparty_address, "notice_date": agreement.decided_on,
        "proof_due_date": agreement.proof_due_on, "programme": agreement.programme,
        "funding_kind": FUNDING_KIND_NOTICE[agreement.funding_kind or ""],
        "funding_method": FUNDING_METHOD_NOTICE[agreement.funding_method or ""],
        "remedy_authority": agreement.remedy_authority or authority,
        "remedy_address": agreement.remedy_address or address,
    }


def generate(agreement: Agreement, language: str, counterparty_address: str,
             user: User) -> DocumentRecord:
    template, values = template_values(agreement, counterparty_address)
    return desk.generate(template, language, values, user, agreement_id=agreement.id)


def check(agreement: Agreement, upload: FileStorage, user: User) -> DocumentRecord:
    """File a returned copy on the agreement: the file is kept (content-addressed, so the
    record's SHA-256 names it) and checked; the latest filed is the signed copy."""
    data, filename = desk.read_upload(upload)
    record, _result = desk.check(data, filename, user, agreement_id=agreement.id, keep=True)
    return record


def for_agreement(agreement_id: int) -> list[DocumentRecord]:
    return list(db.session.scalars(select(DocumentRecord).where(
        DocumentRecord.agreement_id == agreement_id).order_by(DocumentRecord.id)))
