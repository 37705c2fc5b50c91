"""The API's schemas: they validate the requests AND describe them in the OpenAPI document
(flask-smorest builds it from these), so the description cannot drift from the code."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from clause_tracker.agreements.models import CONTRACT_KINDS, KINDS, PROCEDURES, STATUSES
from clause_tracker.checks.models import STAGES
from clause_tracker.compliance.state import STATES
from clause_tracker.declarations.lifecycle import ACTIONS, SYSTEM_ACTIONS
from clause_tracker.declarations.lifecycle import STATES as DECLARATION_STATES
from clause_tracker.declarations.models import CHANNELS, MAIN, SUBCONTRACTOR
from clause_tracker.registry.conditions import (
    CHECK_FILTERS,
    CLAUSE_FILTERS,
    COMPLAINT_FILTERS,
    DECLARATION_FILTERS,
    EXPIRY_WINDOWS,
    MEASURE_FILTERS,
    SCOPES,
    UNIT_KINDS,
)
from clause_tracker.registry.queries import SORTS
from clause_tracker.request_args import FIRST_DAY, INT_LIMIT, LAST_DAY, MAX_PAGE
from clause_tracker.workdays import DEFAULT_DECLARATION_DAYS

AMOUNT_PATTERN = r"^\d{1,12}(\.\d{1,2})?$"
PERCENT_PATTERN = r"^\d{1,3}(\.\d{1,2})?$"
QUARTER_PATTERN = r"^\d{4}-Q[1-4]$"
NO_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class Amount(fields.Decimal):
    """Euro amounts as decimal strings ("12345.67"): exact, never a binary float."""

    PATTERN = AMOUNT_PATTERN

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"pattern": self.PATTERN, **kwargs.pop("metadata", {})}
        super().__init__(places=2, as_string=True, metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, str) or not re.fullmatch(self.PATTERN.strip("^$"), value):
            raise ValidationError(f"An amount is a string such as \"12345.67\" "
                                  f"(pattern {self.PATTERN}).")
        return super()._deserialize(value, attr, data, **kwargs)


class Percent(Amount):
    PATTERN = PERCENT_PATTERN

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validate=_at_most_100, **kwargs)


def _at_most_100(value: Decimal) -> None:
    if value > 100:
        raise ValidationError("At most 100.")


class Moment(fields.DateTime):
    """A time in UTC, RFC 3339 with its offset (the database keeps naive UTC)."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if isinstance(value, datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)


class Day(fields.Date):
    """An ISO day between 1900 and 2199 (as the forms accept)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date:
        day = super()._deserialize(value, attr, data, **kwargs)
        if not FIRST_DAY <= day <= LAST_DAY:
            raise ValidationError("Please enter a day between 1900 and 2199.")
        return day


class Text(fields.String):
    """Text without control characters, trimmed; `required` text must not be blank."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if NO_CONTROL.search(text):
            raise ValidationError("Control characters are not allowed.")
        if self.required and not text:
            raise ValidationError("Must not be blank.")
        return text


def _id(**kwargs: Any) -> fields.Integer:
    return fields.Integer(validate=validate.Range(1, INT_LIMIT), **kwargs)


def _text(max_length: int, required: bool = False, **kwargs: Any) -> Text:
    return Text(required=required, validate=validate.Length(min=1 if required else 0,
                                                            max=max_length), **kwargs)


# --- shared ----------------------------------------------------------------------------------

class PageQuerySchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(1, MAX_PAGE),
                          metadata={"description": "page number, from 1"})


class PageSchema(Schema):
    page = fields.Integer(required=True)
    pages = fields.Integer(required=True)
    total = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    next = fields.String(allow_none=True, required=True,
                         metadata={"description": "the next page's URL, or null on the last"})


class UnitSchema(Schema):
    id = fields.Integer(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)


class ComplianceSchema(Schema):
    state = fields.String(required=True, validate=validate.OneOf(STATES))
    reason = fields.String(required=True, metadata={"description": "the first rule that "
                                                                   "matched (README)"})
    reason_text = fields.String(required=True)


# --- agreements ------------------------------------------------------------------------------

class AgreementListQuerySchema(PageQuerySchema):
    """The registry list's filters, with the same names and values as its page."""

    q = fields.String(validate=validate.Length(max=100),
                      metadata={"description": "in reference, subject, counterparty name"})
    unit = _id()
    kind = fields.String(validate=validate.OneOf(KINDS))
    status = fields.String(validate=validate.OneOf(STATUSES))
    compliance = fields.String(validate=validate.OneOf(STATES))
    sort = fields.String(validate=validate.OneOf(
        [f"{sign}{key}" for key in (*SORTS, "compliance") for sign in ("", "-")]),
        metadata={"description": "a column, descending with a leading '-'"})
    scope = fields.String(validate=validate.OneOf(SCOPES))
    unit_kind = fields.String(validate=validate.OneOf(UNIT_KINDS))
    declaration = fields.String(validate=validate.OneOf(DECLARATION_FILTERS))
    expiring_within = fields.Integer(validate=validate.OneOf(EXPIRY_WINDOWS))
    exemption = fields.String(validate=validate.Length(max=200))
    clause_version = _id()
    clause = fields.String(validate=validate.OneOf(CLAUSE_FILTERS))
    quarter = fields.String(validate=validate.Regexp(QUARTER_PATTERN))
    decided_from = Day()
    decided_to = Day()
    check = fields.String(validate=validate.OneOf(CHECK_FILTERS))
    measure = fields.String(validate=validate.OneOf(MEASURE_FILTERS))
    complaint = fields.String(validate=validate.OneOf(COMPLAINT_FILTERS))


class AgreementSchema(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    reference = fields.String(required=True)
    subject = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    org_unit = fields.Nested(UnitSchema, required=True)
    counterparty_id = fields.Integer(allow_none=True, required=True)
    counterparty_name = fields.String(allow_none=True, required=True)
    value = Amount(allow_none=True, required=True)
    start_date = fields.Date(allow_none=True, required=True)
    end_date = fields.Date(allow_none=True, required=True)
    decided_on = fields.Date(allow_none=True, required=True)
    contract_kind = fields.String(allow_none=True)
    procedure = fields.String(allow_none=True)
    estimated_value = Amount(allow_none=True)
    vat_rate = Amount(allow_none=True)
    vat_amount = Amount(allow_none=True)
    gross_value = Amount(allow_none=True)
    renewal_options = fields.String(allow_none=True)
    programme = fields.String(allow_none=True)
    proof_due_on = fields.Date(allow_none=True)
    clause_version = fields.String(allow_none=True, required=True,
                                   metadata={"description": "variant, version and language of "
                                                            "the attached clause"})
    clause_method = fields.String(allow_none=True, required=True)
    signed_copy_due_on = fields.Date(allow_none=True, required=True)
    exemption_approved = fields.Boolean(required=True)
    compliance = fields.Nested(ComplianceSchema, required=True)
    version = fields.Integer(required=True, metadata={"description": "the version counter; "
                                                                     "also the ETag"})
    created_at = Moment(required=True)
    updated_at = Moment(required=True)


class AgreementPageSchema(PageSchema):
    items = fields.List(fields.Nested(AgreementSchema), required=True)


class _AgreementInput(Schema):
    reference = _text(80, required=True)
    subject = _text(2000, required=True)
    counterparty_id = _id(allow_none=True)
    value = Amount(allow_none=True)
    start_date = Day(allow_none=True)
    end_date = Day(allow_none=True)
    decided_on = Day(allow_none=True, metadata={"description": "award date / date of the "
                                                               "grant notice"})

    @validates_schema
    def _period(self, data: dict[str, Any], **_kwargs: Any) -> None:
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            raise ValidationError("The end lies before the start.", "end_date")


class ContractInputSchema(_AgreementInput):
    contract_kind = fields.String(required=True, validate=validate.OneOf(CONTRACT_KINDS))
    procedure = fields.String(required=True, validate=validate.OneOf(PROCEDURES))
    estimated_value = Amount(allow_none=True)
    vat_rate = Percent(allow_none=True)
    renewal_options = _text(1000, allow_none=True)


class GrantInputSchema(_AgreementInput):
    programme = _text(200, required=True)
    proof_due_on = Day(allow_none=True)


class ContractPatchSchema(ContractInputSchema):
    """The fields to change (any subset of ContractInput)."""


class GrantPatchSchema(GrantInputSchema):
    """The fields to change (any subset of GrantInput)."""


class IdempotencyHeaderSchema(Schema):
    idempotency_key = fields.String(
        data_key="Idempotency-Key", validate=validate.Regexp(r"^[A-Za-z0-9_-]{16,64}$"),
        metadata={"description": "the same key sent again returns the first result, "
                                 "creating nothing"})


class IfMatchHeaderSchema(Schema):
    if_match = fields.String(data_key="If-Match", validate=validate.Length(max=100),
                             metadata={"description": "the ETag read (the version counter, "
                                                      "quoted); required"})


# --- counterparties --------------------------------------------------------------------------

class CounterpartyQuerySchema(PageQuerySchema):
    q = fields.String(validate=validate.Length(max=100), metadata={"description": "in the name"})


class CounterpartySchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    legal_form = fields.String(required=True)
    address = fields.String(required=True)
    register_number = fields.String(required=True)
    vat_id = fields.String(required=True)
    version = fields.Integer(required=True)


class CounterpartyPageSchema(PageSchema):
    items = fields.List(fields.Nested(CounterpartySchema), required=True)


# --- declarations ----------------------------------------------------------------------------

class DeclarationQuerySchema(PageQuerySchema):
    agreement_id = _id()
    state = fields.String(validate=validate.OneOf(DECLARATION_STATES))


class DeclarationSchema(Schema):
    id = fields.Integer(required=True)
    agreement_id = fields.Integer(required=True)
    party = fields.String(required=True, validate=validate.OneOf((MAIN, SUBCONTRACTOR)))
    party_name = fields.String(required=True)
    state = fields.String(required=True, validate=validate.OneOf(DECLARATION_STATES))
    not_required_reason = fields.String(allow_none=True, required=True)
    requested_on = fields.Date(allow_none=True, required=True)
    working_days = fields.Integer(allow_none=True, required=True)
    deadline = fields.Date(allow_none=True, required=True)
    signer_name = fields.String(allow_none=True, required=True)
    signer_function = fields.String(allow_none=True, required=True)
    signed_on = fields.Date(allow_none=True, required=True)
    received_on = fields.Date(allow_none=True, required=True)
    channel = fields.String(allow_none=True, required=True)
    valid_until = fields.Date(allow_none=True, required=True)
    evidence_sha256 = fields.String(allow_none=True, required=True)
    version = fields.Integer(required=True)


class DeclarationPageSchema(PageSchema):
    items = fields.List(fields.Nested(DeclarationSchema), required=True)


class DeclarationRequestSchema(Schema):
    party = fields.String(load_default=MAIN, validate=validate.OneOf((MAIN, SUBCONTRACTOR)))
    party_name = _text(200, metadata={"description": "empty: the record's counterparty"})
    requested_on = Day(required=True)
    working_days = fields.Integer(load_default=DEFAULT_DECLARATION_DAYS,
                                  validate=validate.Range(1, 60))


class ReceiptSchema(Schema):
    signer_name = _text(120, required=True)
    signer_function = _text(120, required=True)
    signed_on = Day(required=True)
    received_on = Day(required=True)
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    valid_until = Day()
    evidence = Upload(metadata={"description": "the signed declaration: PDF, DOCX, PNG or "
                                               "JPEG"})

    @validates_schema
    def _order(self, data: dict[str, Any], **_kwargs: Any) -> None:
        signed, received = data.get("signed_on"), data.get("received_on")
        if signed and received and received < signed:
            raise ValidationError("It cannot arrive before it was signed.", "received_on")
        until = data.get("valid_until")
        if signed and until and until < signed:
            raise ValidationError("It cannot expire before it was signed.", "valid_until")


class TransitionSchema(Schema):
    action = fields.String(required=True, validate=validate.OneOf(
        [a for a in ACTIONS if a not in SYSTEM_ACTIONS and a != "receive"]),
        metadata={"description": "a step of the declaration's lifecycle; `request` asks again"})
    note = _text(2000)


# --- checks and measures ---------------------------------------------------------------------

class CheckQuerySchema(PageQuerySchema):
    agreement_id = _id()
    stage = fields.String(validate=validate.OneOf(STAGES))


class MeasureSchema(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    state = fields.String(required=True)
    deadline = fields.Date(allow_none=True, required=True)
    exclusion_until = fields.Date(allow_none=True, required=True)
    penalty_amount = Amount(allow_none=True, required=True)
    completion = fields.String(allow_none=True, required=True)
    completed_on = fields.Date(allow_none=True, required=True)
    decided_at = Moment(allow_none=True, required=True)


class CheckSchema(Schema):
    id = fields.Integer(required=True)
    agreement_id = fields.Integer(required=True)
    trigger = fields.String(required=True)
    due_on = fields.Date(required=True)
    deadline = fields.Date(required=True)
    stage = fields.String(required=True, validate=validate.OneOf(STAGES))
    outcome = fields.String(allow_none=True, required=True)
    completed_on = fields.Date(allow_none=True, required=True)
    decision = fields.String(allow_none=True, required=True)
    decided_on = fields.Date(allow_none=True, required=True)
    measures = fields.List(fields.Nested(MeasureSchema), required=True)
    version = fields.Integer(required=True)


class CheckPageSchema(PageSchema):
    items = fields.List(fields.Nested(CheckSchema), required=True)


# --- signed copies ---------------------------------------------------------------------------

class SignedCopyUploadSchema(Schema):
    file = Upload(required=True, metadata={"description": "the returned signed copy: DOCX, "
                                                          "PDF or a scan (PNG, JPEG, TIFF)"})


class SignedCopySchema(Schema):
    id = fields.Integer(required=True)
    agreement_id = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={"description": "`verify` (a file checked) "
                                                                 "or `manual`"})
    status = fields.String(allow_none=True, required=True,
                           metadata={"description": "verbatim, formatting_only, ocr_match, "
                                                    "deviation, missing, tracked_changes …"})
    filename = fields.String(required=True)
    sha256 = fields.String(allow_none=True, required=True)
    created_at = Moment(required=True)
    confirmed_at = Moment(allow_none=True, required=True)


class SignedCopyListSchema(Schema):
    items = fields.List(fields.Nested(SignedCopySchema), required=True)



# --- OCDS ------------------------------------------------------------------------------------

class OcdsPackageMetadataSchema(Schema):
    """The metadata every OCDS 1.1 package carries, release or record package alike."""

    uri = fields.String(required=True)
    version = fields.String(required=True)
    extensions = fields.List(fields.String())
    publishedDate = fields.String(required=True)  # the standard's name
    publisher = fields.Dict(required=True)
    license = fields.String()
    publicationPolicy = fields.String()  # the standard's name


class OcdsPackageSchema(OcdsPackageMetadataSchema):
    """An OCDS 1.1 release package (https://standard.open-contracting.org/1.1/en/schema/
    release_package/); the releases as interop/ocds.py builds them."""

    releases = fields.List(fields.Dict(), required=True)


class OcdsRecordPackageSchema(OcdsPackageMetadataSchema):
    """An OCDS 1.1 record package: one record per contract, with its release and the
    compiled release."""

    packages = fields.List(fields.String())
    records = fields.List(fields.Dict(), required=True)
