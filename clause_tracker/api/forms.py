from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3, newer than its stubs
from wtforms.validators import DataRequired, Length, NumberRange

from clause_tracker.api.tokens import DEFAULT_DAYS
from clause_tracker.auth.labels import ROLE_LABELS
from clause_tracker.permissions import Role


class TokenForm(FlaskForm):
    name = StringField(_l("What the token is for"), validators=[DataRequired(), Length(max=120)])
    write = BooleanField(_l("May also write (scope “write”): record and change contracts, "
                            "grants and declarations, file signed copies"))
    days = IntegerField(_l("Valid for (days)"), default=DEFAULT_DAYS,
                        validators=[DataRequired(), NumberRange(min=1, max=3650)])
    submit = SubmitField(_l("Create token"))


class ServiceTokenForm(TokenForm):
    account = SelectField(_l("Service account"), coerce=int)


class ServiceAccountForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=80)])
    display_name = StringField(_l("What the account is (e.g. the system that uses it)"),
                               validators=[DataRequired(), Length(max=120)])
    role = SelectField(_l("Role"), choices=[SelectChoice(r.value, label)
                                            for r, label in ROLE_LABELS.items()
                                            if r != Role.ADMIN])
    org_unit = SelectField(_l("Unit"), coerce=int)
    submit = SubmitField(_l("Create service account"))


class RevokeForm(FlaskForm):
    submit = SubmitField(_l("Revoke"))
