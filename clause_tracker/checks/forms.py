from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3, newer than its stubs
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from clause_tracker.checks.labels import DECISION_LABELS, MEASURE_LABELS, OUTCOME_LABELS
from clause_tracker.german_fields import GermanDateField
from clause_tracker.request_args import INT_LIMIT


class VersionedForm(FlaskForm):
    version = IntegerField(widget=HiddenInput(), validators=[Optional(), NumberRange(0, INT_LIMIT)])


class AssignForm(VersionedForm):
    pass


class OutcomeForm(VersionedForm):
    outcome = RadioField(_l("Outcome"), choices=[SelectChoice(k, v)
                                                 for k, v in OUTCOME_LABELS.items()],
                         validators=[DataRequired()])
    findings = TextAreaField(_l("Findings (what was found, on which facts)"),
                             validators=[Optional(), Length(max=5000)])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])


class HearingForm(FlaskForm):
    held_on = GermanDateField(_l("Hearing held on"), validators=[DataRequired()],
                              default=date.today)
    summary = TextAreaField(_l("Summary of the hearing"),
                            validators=[DataRequired(), Length(max=5000)])
    statement = TextAreaField(_l("Statement of the contractor or grantee"),
                              validators=[Optional(), Length(max=10000)])


class PlanCompletionForm(VersionedForm):
    outcome = RadioField(_l("Was the action plan done?"),
                         choices=[SelectChoice("done", _l("Done")),
                                  SelectChoice("not_done", _l("Not done"))],
                         validators=[DataRequired()])
    on = GermanDateField(_l("On"), validators=[DataRequired()], default=date.today)
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])


class BreachDecisionForm(VersionedForm):
    decision = RadioField(_l("Was the clause breached?"),
                          choices=[SelectChoice(k, v) for k, v in DECISION_LABELS.items()],
                          validators=[DataRequired()])
    note = TextAreaField(_l("Reasons for the decision"),
                         validators=[DataRequired(), Length(max=5000)])


class MeasureForm(FlaskForm):
    kind = SelectField(_l("Measure"), choices=[SelectChoice(k, v)
                                               for k, v in MEASURE_LABELS.items()])
    description = TextAreaField(_l("Description and reasons"),
                                validators=[DataRequired(), Length(max=5000)])
    deadline = GermanDateField(_l("Deadline (action plan)"), validators=[Optional()])
    breaches = IntegerField(_l("Number of breaches (contractual penalty)"),
                            validators=[Optional(), NumberRange(min=1, max=100)])
    exclusion_until = GermanDateField(_l("Excluded from awards until"),
                                      validators=[Optional()])


class DecisionForm(VersionedForm):
    decision = RadioField(_l("Decision"), choices=[
        SelectChoice("approve", _l("Approve")), SelectChoice("reject", _l("Reject"))],
        validators=[DataRequired()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])


class ComplaintForm(FlaskForm):
    case_reference = StringField(
        _l("Case reference of the anti-discrimination office"),
        validators=[DataRequired(), Length(max=60)])  # its format: services.record_complaint
    received_on = GermanDateField(_l("Complaint received by the office on"),
                                  validators=[DataRequired()], default=date.today)
