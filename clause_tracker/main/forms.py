from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3, newer than its stubs
from wtforms.validators import DataRequired


class LanguageForm(FlaskForm):
    language = SelectField(choices=[SelectChoice("de", "Deutsch"), SelectChoice("en", "English")],
                           validators=[DataRequired()])
    next = HiddenField()
