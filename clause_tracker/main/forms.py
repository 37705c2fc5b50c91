from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired


class LanguageForm(FlaskForm):
    language = SelectField(choices=[SelectChoice("de", "Deutsch"), SelectChoice("en", "English")],
                           validators=[DataRequired()])
    next = HiddenField()
