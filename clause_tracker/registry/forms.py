from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3, newer than its stubs
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from clause_tracker.agreements.labels import (
    CLAUSE_METHOD_LABELS,
    CONTRACT_KIND_LABELS,
    FUNDING_KIND_LABELS,
    FUNDING_METHOD_LABELS,
    PROCEDURE_LABELS,
)
from clause_tracker.agreements.models import CLAUSE_METHODS, CONTRACT_KINDS, PROCEDURES
from clause_tracker.documents.grant_terms import FUNDING_KINDS, FUNDING_METHODS
from clause_tracker.german_fields import (
    PLAUSIBLE_MAX_AMOUNT,
    EuroField,
    GermanDateField,
    PercentField,
)
from clause_tracker.i18n import format_money
from clause_tracker.idempotency import once_field
from clause_tracker.request_args import INT_LIMIT


def _choices(codes, labels) -> list[SelectChoice]:
    return [SelectChoice(code, labels[code]) for code in codes]


LANGUAGES = [SelectChoice("de", _l("German")), SelectChoice("en", _l("English"))]
KIND_CHOICES = [SelectChoice("contract", _l("Contracts")), SelectChoice("grant", _l("Grants"))]


class VersionedForm(FlaskForm):
    """Carries the record's version counter: a save on top of someone else's is refused."""

    version = IntegerField(widget=HiddenInput(), validators=[Optional(), NumberRange(0, INT_LIMIT)])


class AgreementForm(VersionedForm):
    reference = StringField(_l("Reference"), validators=[DataRequired(), Length(max=80)])
    counterparty_id = SelectField(_l("Contractor or grantee"), coerce=int,
                                  validators=[Optional()])
    value = EuroField(_l("Value in EUR"), validators=[Optional()])
    start_date = GermanDateField(_l("Start"), validators=[Optional()])
    end_date = GermanDateField(_l("End"), validators=[Optional()])
    decided_on = GermanDateField(_l("Date of decision"), validators=[Optional()])
    confirm_amount = BooleanField(_l("The amount is right"))
    once = once_field()
    AMOUNT_FIELDS: tuple[str, ...] = ("value",)
    amount_to_confirm = False  # set by validate(): the template then offers confirm_amount

    FIELDS: tuple[str, ...] = ("reference", "counterparty_id", "value", "start_date",
                               "end_date", "decided_on")

    def set_counterparties(self, pairs: list[tuple[int, str]]) -> None:
        self.counterparty_id.choices = [SelectChoice(0, _l("— not yet known —")),
                                      *(SelectChoice(i, n) for i, n in pairs)]

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if self.start_date.data and self.end_date.data and \
                self.end_date.data < self.start_date.data:
            self.end_date.errors.append(_l("The end lies before the start."))  # type: ignore[attr-defined]  # a list once validated
            ok = False
        return self._plausible_amounts() and ok

    def _plausible_amounts(self) -> bool:
        """An amount above PLAUSIBLE_MAX_AMOUNT, newly entered, is saved only once the user
        has confirmed it (a typo of three zeros is the usual cause)."""
        limit = Decimal(str(current_app.config.get("PLAUSIBLE_MAX_AMOUNT",
                                                   PLAUSIBLE_MAX_AMOUNT)))
        self.amount_to_confirm = False
        for name in self.AMOUNT_FIELDS:
            field = getattr(self, name)
            if field.data is None or field.data <= limit or field.data == field.object_data:
                continue
            self.amount_to_confirm = True
            if not self.confirm_amount.data:
                field.errors.append(_l(
                    "%(amount)s is more than %(limit)s. If the amount is right, tick “The "
                    "amount is right” and save again.", amount=format_money(field.data),
                    limit=format_money(limit)))
        return not self.amount_to_confirm or bool(self.confirm_amount.data)

    def values(self) -> dict[str, Any]:
        data = {name: getattr(self, name).data for name in self.FIELDS}
        data["reference"] = data["reference"].strip()
        data["counterparty_id"] = data["counterparty_id"] or None
        for name in ("subject", "renewal_options", "programme", "remedy_authority",
                     "remedy_address"):
            if name in data and isinstance(data[name], str):
                data[name] = data[name].strip() or None
        return data


class ContractForm(AgreementForm):
    reference = StringField(_l("Award number (Vergabenummer)"),
                            validators=[DataRequired(), Length(max=80)])
    subject = TextAreaField(_l("Subject"), validators=[DataRequired(), Length(max=2000)])
    contract_kind = SelectField(_l("Kind of contract"),
                                choices=_choices(CONTRACT_KINDS, CONTRACT_KIND_LABELS))
    procedure = SelectField(_l("Procedure"), choices=_choices(PROCEDURES, PROCEDURE_LABELS))
    estimated_value = EuroField(_l("Estimated value in EUR"), validators=[Optional()])
    value = EuroField(_l("Awarded value, net of VAT, in EUR"), validators=[Optional()])
    vat_rate = PercentField(_l("VAT rate in %"), validators=[Optional()])
    decided_on = GermanDateField(_l("Award date"), validators=[Optional()])
    renewal_options = TextAreaField(_l("Renewal options"), validators=[Optional(),
                                                                        Length(max=1000)])
    FIELDS = (*AgreementForm.FIELDS, "subject", "contract_kind", "procedure",
              "estimated_value", "vat_rate", "renewal_options")
    AMOUNT_FIELDS = ("value", "estimated_value")


class GrantForm(AgreementForm):
    reference = StringField(_l("File number"), validators=[DataRequired(), Length(max=80)])
    programme = StringField(_l("Programme or fund"), validators=[DataRequired(),
                                                                   Length(max=200)])
    subject = TextAreaField(_l("Purpose"), validators=[DataRequired(), Length(max=2000)])
    value = EuroField(_l("Amount in EUR"), validators=[Optional()])
    start_date = GermanDateField(_l("Funding period from"), validators=[Optional()])
    end_date = GermanDateField(_l("Funding period until"), validators=[Optional()])
    decided_on = GermanDateField(_l("Date of the grant notice"), validators=[Optional()])
    proof_due_on = GermanDateField(_l("Proof of use due"), validators=[Optional()])
    funding_kind = SelectField(_l("Kind of funding"),
                               choices=_choices(FUNDING_KINDS, FUNDING_KIND_LABELS))
    funding_method = SelectField(_l("Method of financing"),
                                 choices=_choices(FUNDING_METHODS, FUNDING_METHOD_LABELS))
    remedy_authority = StringField(
        _l("Authority that takes an objection"), validators=[Optional(), Length(max=200)],
        description=_l("Empty: the unit that issues the notice, with its address."))
    remedy_address = TextAreaField(_l("Its address"), validators=[Optional(), Length(max=500)],
                                   render_kw={"rows": 3})
    FIELDS = (*AgreementForm.FIELDS, "subject", "programme", "proof_due_on", "funding_kind",
              "funding_method", "remedy_authority", "remedy_address")


class StatusForm(VersionedForm):
    status = HiddenField(validators=[DataRequired()])


class EndEarlyForm(VersionedForm):
    """Terminating a contract or revoking a grant: a step of its own, confirmed."""

    ended_on = GermanDateField(_l("Takes effect on"), validators=[DataRequired()])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])
    confirm = BooleanField(_l("I confirm: this ends the monitoring of the record (no further "
                              "routine checks); its history stays."),
                           validators=[DataRequired()])


class ClauseForm(VersionedForm):
    method = SelectField(_l("How the clause is attached"),
                         choices=_choices(CLAUSE_METHODS["contract"] + CLAUSE_METHODS["grant"],
                                          CLAUSE_METHOD_LABELS))
    language = SelectField(_l("Language of the clause"),
                           choices=LANGUAGES)

    def for_kind(self, kind: str) -> ClauseForm:
        self.method.choices = _choices(CLAUSE_METHODS[kind], CLAUSE_METHOD_LABELS)
        return self


class ExemptionForm(VersionedForm):
    reason = SelectField(_l("Reason for the exemption"), choices=[])
    note = TextAreaField(_l("Explanation"), validators=[DataRequired(), Length(max=2000)])


class ApproveExemptionForm(VersionedForm):
    pass


class GenerateDocumentForm(VersionedForm):
    language = SelectField(_l("Language of the clause"),
                           choices=LANGUAGES)
    counterparty_address = TextAreaField(_l("Address of the contractor or grantee"),
                                         validators=[DataRequired(), Length(max=300)],
                                         render_kw={"rows": 3})


class VerifyDocumentForm(FlaskForm):
    document = FileField(_l("Signed copy (DOCX, PDF or scan)"), validators=[FileRequired()],
                         render_kw={"accept": ".docx,.pdf,.png,.jpg,.jpeg,.tif,.tiff"})


class SignedCopyForm(FlaskForm):
    """Confirming an OCR match or approving a manual check: the record and the CSRF token."""

    record_id = IntegerField(widget=HiddenInput(), validators=[DataRequired()])


class ManualCheckForm(FlaskForm):
    reason = TextAreaField(_l("Why the signed copy can only be checked by hand"),
                           validators=[DataRequired(), Length(max=2000)])


class ThresholdForm(FlaskForm):
    org_unit_id = SelectField(_l("Unit"), coerce=int)
    kind = SelectField(_l("Kind"), choices=KIND_CHOICES)
    amount = EuroField(_l("No declaration needed below (EUR); empty removes the threshold"),
                       validators=[Optional(), NumberRange(min=0)])


class ImportForm(FlaskForm):
    kind = SelectField(_l("What the file holds"), choices=KIND_CHOICES)
    file = FileField(_l("File (CSV or XLSX)"), validators=[FileRequired()],
                     render_kw={"accept": ".csv,.xlsx"})
    dry_run = BooleanField(_l("Only check, import nothing"))
