from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3, newer than its stubs
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from clause_tracker.auth.labels import ROLE_LABELS


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=80)],
                           render_kw={"autocomplete": "username"})
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)],
                             render_kw={"autocomplete": "current-password"})
    submit = SubmitField(_l("Sign in"))


class UserCreateForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=80)])
    display_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(_l("E-mail"), validators=[Optional(), Email(), Length(max=200)])
    role = SelectField(
        _l("Role"), choices=[SelectChoice(r.value, label) for r, label in ROLE_LABELS.items()]
    )
    org_unit = SelectField(_l("Unit"), coerce=int)
    password = PasswordField(_l("Initial password"),
                             validators=[DataRequired(), Length(min=12, max=200)],
                             render_kw={"autocomplete": "new-password"})
    submit = SubmitField(_l("Create user"))


class ConfirmForm(FlaskForm):
    """A button that changes something: CSRF-protected POST, no fields."""

    submit = SubmitField(_l("Confirm"))


class UserRoleForm(FlaskForm):
    role = SelectField(
        _l("Role"), choices=[SelectChoice(r.value, label) for r, label in ROLE_LABELS.items()]
    )
    org_unit = SelectField(_l("Unit"), coerce=int)
    submit = SubmitField(_l("Save role and unit"))


class PasswordResetForm(FlaskForm):
    password = PasswordField(_l("Temporary password"),
                             validators=[DataRequired(), Length(min=12, max=200)],
                             render_kw={"autocomplete": "new-password"})
    submit = SubmitField(_l("Reset password"))


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(_l("Current password"),
                                     validators=[DataRequired(), Length(max=200)],
                                     render_kw={"autocomplete": "current-password"})
    new_password = PasswordField(_l("New password"),
                                 validators=[DataRequired(), Length(min=12, max=200)],
                                 render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Repeat the new password"),
                            validators=[DataRequired(), EqualTo(
                                "new_password", message=_l("The two passwords differ."))],
                            render_kw={"autocomplete": "new-password"})
    submit = SubmitField(_l("Change password"))


class SecondFactorForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=20)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "text",
                                  "spellcheck": "false"})
    submit = SubmitField(_l("Confirm"))


class SecondFactorDisableForm(FlaskForm):
    password = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=200)],
                             render_kw={"autocomplete": "current-password"})
    submit = SubmitField(_l("Remove second factor"))
