from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3, newer than its stubs
from wtforms.validators import DataRequired, Length, Optional, Regexp

from clause_tracker.documents.generate import percent_text
from clause_tracker.documents.grant_terms import (
    FUNDING_KIND_LABELS,
    FUNDING_KIND_NOTICE,
    FUNDING_KINDS,
    FUNDING_METHOD_LABELS,
    FUNDING_METHOD_NOTICE,
    FUNDING_METHODS,
)
from clause_tracker.german_fields import EuroField, GermanDateField, PercentField

DOCX_ACCEPT = ".docx,application/vnd.openxmlformats-officedocument.wordprocessingml.document"
VARIANT_CHOICES = [
    SelectChoice("procurement", _l("Contracts (supplies, services, works)")),
    SelectChoice("grant", _l("Grants (condition in the grant notice)")),
    SelectChoice("subcontract", _l("Subcontracts (passed on by contractors)")),
]
RETURNED_ACCEPT = (DOCX_ACCEPT + ",.pdf,application/pdf,.png,image/png,.jpg,.jpeg,image/jpeg,"
                   ".tif,.tiff,image/tiff")
LANGUAGE_CHOICES = [SelectChoice("de", _l("German")), SelectChoice("en", _l("English"))]
def _choices(codes, labels) -> list[SelectChoice]:
    return [SelectChoice(code, labels[code]) for code in codes]


TEMPLATE_CHOICES = [
    SelectChoice("supplies", _l("Contract for supplies")),
    SelectChoice("services", _l("Contract for services")),
    SelectChoice("works", _l("Contract for works")),
    SelectChoice("grant", _l("Grant notice")),
]


class InsertForm(FlaskForm):
    document = FileField(_l("Contract document (DOCX)"), validators=[FileRequired()],
                         render_kw={"accept": DOCX_ACCEPT})
    variant = SelectField(_l("Clause variant"), choices=VARIANT_CHOICES)
    language = SelectField(_l("Language of the clause"), choices=LANGUAGE_CHOICES)


class ConfirmInsertForm(FlaskForm):
    # A signed token naming the user's own pending upload (services.upload_token).
    upload = HiddenField(validators=[DataRequired(), Length(max=500),
                                     Regexp(r"\A[A-Za-z0-9_.\-]+\Z")])
    filename = HiddenField(validators=[Length(max=255)])
    variant = HiddenField(validators=[DataRequired()])
    language = HiddenField(validators=[DataRequired()])


class VerifyForm(FlaskForm):
    document = FileField(_l("Returned document (DOCX, PDF or scan: PNG, JPEG, TIFF)"),
                         validators=[FileRequired()], render_kw={"accept": RETURNED_ACCEPT})


class GenerateForm(FlaskForm):
    template = SelectField(_l("Template"), choices=TEMPLATE_CHOICES)
    language = SelectField(_l("Language of the clause"), choices=LANGUAGE_CHOICES)
    reference = StringField(_l("Reference (award or file number)"),
                            validators=[DataRequired(), Length(max=80)])
    subject = TextAreaField(_l("Subject"), validators=[DataRequired(), Length(max=1000)])
    authority = StringField(_l("City office awarding"), validators=[DataRequired(),
                                                                    Length(max=200)])
    authority_address = TextAreaField(_l("Address of the city office"),
                                      validators=[DataRequired(), Length(max=300)],
                                      render_kw={"rows": 3})
    counterparty = StringField(_l("Contractor or grantee"),
                               validators=[DataRequired(), Length(max=200)])
    counterparty_address = TextAreaField(_l("Address of the contractor or grantee"),
                                         validators=[DataRequired(), Length(max=300)],
                                         render_kw={"rows": 3})
    value = EuroField(_l("Value net of VAT, or amount of the grant, in EUR"),
                      validators=[DataRequired()])
    vat_rate = PercentField(_l("VAT rate in % (contracts only)"), validators=[Optional()])
    programme = StringField(_l("Programme or fund (grants only)"),
                            validators=[Optional(), Length(max=200)])
    # Checked in validate(), for grant notices only (contracts send none).
    funding_kind = SelectField(_l("Kind of funding (grants only)"), validate_choice=False,
                               choices=_choices(FUNDING_KINDS, FUNDING_KIND_LABELS))
    funding_method = SelectField(_l("Method of financing (grants only)"), validate_choice=False,
                                 choices=_choices(FUNDING_METHODS, FUNDING_METHOD_LABELS))
    start_date = GermanDateField(_l("Start"), validators=[DataRequired()])
    end_date = GermanDateField(_l("End"), validators=[DataRequired()])
    signature_date = GermanDateField(_l("Date of signature"), validators=[DataRequired()])
    notice_date = GermanDateField(_l("Date of the grant notice (grants only)"),
                                  validators=[Optional()])
    proof_due_date = GermanDateField(_l("Proof of use due (grants only)"),
                                     validators=[Optional()])

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if self.start_date.data and self.end_date.data and \
                self.end_date.data < self.start_date.data:
            self.end_date.errors.append(_l("The end lies before the start."))  # type: ignore[attr-defined]  # a list once validated
            ok = False
        if self.template.data == "grant":
            for field in (self.notice_date, self.proof_due_date):
                if not field.data and not field.errors:
                    field.errors.append(_l("Grant notices need this date."))  # type: ignore[attr-defined]  # a list once validated
                    ok = False
            if not (self.programme.data or "").strip():
                self.programme.errors.append(_l("Grant notices name the programme or fund."))  # type: ignore[attr-defined]  # a list once validated
                ok = False
            for choice, codes in ((self.funding_kind, FUNDING_KINDS),
                                  (self.funding_method, FUNDING_METHODS)):
                if choice.data not in codes:
                    choice.errors.append(_l("Choose one of the list."))  # type: ignore[attr-defined]  # a list once validated
                    ok = False
        elif self.vat_rate.data is None and not self.vat_rate.errors:
            self.vat_rate.errors.append(_l("Contracts need the VAT rate."))  # type: ignore[attr-defined]  # a list once validated
            ok = False
        return ok

    def record(self) -> dict[str, object]:
        """The template's fields, named as in the DOCX templates."""
        def text(field: StringField) -> str:  # each one DataRequired: validated, not None
            return (field.data or "").strip()

        common: dict[str, object] = {
            "reference": text(self.reference),
            "subject": text(self.subject),
            "value": self.value.data,
            "start_date": self.start_date.data,
            "end_date": self.end_date.data,
            "signature_date": self.signature_date.data,
        }
        if self.template.data == "grant":
            return common | {
                "grantor": text(self.authority),
                "grantor_address": text(self.authority_address),
                "grantee": text(self.counterparty),
                "grantee_address": text(self.counterparty_address),
                "notice_date": self.notice_date.data,
                "proof_due_date": self.proof_due_date.data,
                "programme": text(self.programme),
                "funding_kind": FUNDING_KIND_NOTICE[self.funding_kind.data],
                "funding_method": FUNDING_METHOD_NOTICE[self.funding_method.data],
                "remedy_authority": text(self.authority),
                "remedy_address": text(self.authority_address),
            }
        net, rate = self.value.data, self.vat_rate.data
        assert net is not None and rate is not None  # validated
        vat = (net * rate / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)
        return common | {
            "contracting_authority": text(self.authority),
            "contracting_authority_address": text(self.authority_address),
            "contractor": text(self.counterparty),
            "contractor_address": text(self.counterparty_address),
            "net_value": net, "vat_rate": percent_text(rate), "vat_amount": vat,
            "gross_value": net + vat,
        }
