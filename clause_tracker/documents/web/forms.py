from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3, newer than its stubs
from wtforms.validators import DataRequired, Length, Optional, Regexp

from clause_tracker.german_fields import EuroField, GermanDateField

DOCX_ACCEPT = ".docx,application/vnd.openxmlformats-officedocument.wordprocessingml.document"
VARIANT_CHOICES = [
    SelectChoice("procurement", _l("Contracts (supplies, services, works)")),
    SelectChoice("grant", _l("Grants (condition in the grant notice)")),
    SelectChoice("subcontract", _l("Subcontracts (passed on by contractors)")),
]
RETURNED_ACCEPT = (DOCX_ACCEPT + ",.pdf,application/pdf,.png,image/png,.jpg,.jpeg,image/jpeg,"
                   ".tif,.tiff,image/tiff")
LANGUAGE_CHOICES = [SelectChoice("de", _l("German")), SelectChoice("en", _l("English"))]
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
    authority_address = StringField(_l("Address of the city office"),
                                    validators=[DataRequired(), Length(max=300)])
    counterparty = StringField(_l("Contractor or grantee"),
                               validators=[DataRequired(), Length(max=200)])
    counterparty_address = StringField(_l("Address of the contractor or grantee"),
                                       validators=[DataRequired(), Length(max=300)])
    value = EuroField(_l("Value or amount in EUR"), validators=[DataRequired()])
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
                "grantee": text(self.counterparty),
                "grantee_address": text(self.counterparty_address),
                "notice_date": self.notice_date.data,
                "proof_due_date": self.proof_due_date.data,
            }
        return common | {
            "contracting_authority": text(self.authority),
            "contracting_authority_address": text(self.authority_address),
            "contractor": text(self.counterparty),
            "contractor_address": text(self.counterparty_address),
        }
