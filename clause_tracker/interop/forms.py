from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import Length, Optional


class EformsImportForm(FlaskForm):
    file = FileField(_l("eForms notice (XML)"), validators=[FileRequired()],
                     render_kw={"accept": ".xml"})
    dry_run = BooleanField(_l("Only check, import nothing"))


class BuyerForm(FlaskForm):
    company_id = StringField(_l("Registration number of the buyer (CompanyID)"),
                             validators=[Optional(), Length(max=80)])
    name = StringField(_l("Name of the buyer as the notices give it"),
                       validators=[Optional(), Length(max=200)])
    org_unit_id = SelectField(_l("Organisational unit"), coerce=int)


class RemoveBuyerForm(FlaskForm):
    pass
