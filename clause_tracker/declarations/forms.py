from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3, newer than its stubs
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from clause_tracker.declarations.evidence import DEFAULT_MAX_BYTES
from clause_tracker.declarations.labels import PARTY_LABELS
from clause_tracker.declarations.lifecycle import ACTIONS
from clause_tracker.declarations.models import CHANNELS, MAX_SCORE
from clause_tracker.german_fields import GermanDateField
from clause_tracker.idempotency import once_field
from clause_tracker.request_args import INT_LIMIT
from clause_tracker.workdays import DEFAULT_DECLARATION_DAYS

CHANNEL_LABELS = {"post": _l("By post"), "email": _l("By e-mail"),
                  "portal": _l("Through the procurement portal"),
                  "in_person": _l("Handed over in person")}
PARTY_CHOICES = [SelectChoice(k, v) for k, v in PARTY_LABELS.items()]
CHANNEL_CHOICES = [SelectChoice(c, CHANNEL_LABELS[c]) for c in CHANNELS]
EVIDENCE_ACCEPT = ".pdf,.docx,.png,.jpg,.jpeg,application/pdf,image/png,image/jpeg"


class RequestForm(FlaskForm):
    party = SelectField(_l("From whom"), choices=PARTY_CHOICES)
    party_name = StringField(_l("Name (empty: the contractor or grantee of the record)"),
                             validators=[Optional(), Length(max=200)])
    requested_on = GermanDateField(_l("Requested on"), validators=[DataRequired()],
                                   default=date.today)
    working_days = IntegerField(_l("Deadline in working days (Monday to Friday, without "
                                   "Thuringian public holidays)"),
                                default=DEFAULT_DECLARATION_DAYS,
                                validators=[DataRequired(), NumberRange(min=1, max=60)])
    once = once_field()


class ReceiveForm(FlaskForm):
    version = IntegerField(widget=HiddenInput(), validators=[Optional(), NumberRange(0, INT_LIMIT)])
    signer_name = StringField(_l("Signed by"), validators=[DataRequired(), Length(max=120)])
    signer_function = StringField(_l("Function of the signer"),
                                  validators=[DataRequired(), Length(max=120)])
    signed_on = GermanDateField(_l("Signed on"), validators=[DataRequired()])
    received_on = GermanDateField(_l("Received on"), validators=[DataRequired()],
                                  default=date.today)
    channel = SelectField(_l("Received"), choices=CHANNEL_CHOICES)
    valid_until = GermanDateField(_l("Valid until (empty: for the term of the agreement)"),
                                  validators=[Optional()])
    evidence = FileField(
        _l("Signed declaration (PDF, DOCX, PNG or JPEG, at most %(size)d MiB)",
           size=DEFAULT_MAX_BYTES // 2**20),
        render_kw={"accept": EVIDENCE_ACCEPT})
    once = once_field()

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if self.signed_on.data and self.received_on.data and \
                self.received_on.data < self.signed_on.data:
            self.received_on.errors.append(_l("It cannot arrive before it was signed."))  # type: ignore[attr-defined]  # a list once validated
            ok = False
        if self.valid_until.data and self.signed_on.data and \
                self.valid_until.data < self.signed_on.data:
            self.valid_until.errors.append(_l("It cannot expire before it was signed."))  # type: ignore[attr-defined]  # a list once validated
            ok = False
        return ok


class TransitionForm(FlaskForm):
    version = IntegerField(widget=HiddenInput(), validators=[Optional(), NumberRange(0, INT_LIMIT)])
    action = HiddenField(validators=[DataRequired()])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=1000)])

    def validate_action(self, field) -> None:
        if field.data not in ACTIONS:
            raise ValueError(_l("Unknown action."))


class NotRequiredForm(FlaskForm):
    reason = HiddenField(validators=[DataRequired()])


class CommitmentForm(FlaskForm):
    score = IntegerField(_l("Score as a quality criterion (0–%(max)d points)", max=MAX_SCORE),
                         validators=[InputRequired(message=_l("Enter a score.")),
                                     NumberRange(min=0, max=MAX_SCORE)])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=2000)])
