from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp
from wtforms.widgets import HiddenInput

from clause_tracker.idempotency import once_field
from clause_tracker.request_args import INT_LIMIT


class CounterpartyForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    legal_form = StringField(_l("Legal form"), validators=[Optional(), Length(max=80)])
    address = TextAreaField(_l("Address"), validators=[Optional(), Length(max=300)])
    register_number = StringField(_l("Register number"), validators=[Optional(),
                                                                      Length(max=80)])
    vat_id = StringField(_l("VAT ID"), validators=[Optional(), Length(max=40)])
    once = once_field()
    version = IntegerField(widget=HiddenInput(), validators=[Optional(), NumberRange(0, INT_LIMIT)])

    def values(self) -> dict[str, str]:
        return {name: (getattr(self, name).data or "").strip()
                for name in ("name", "legal_form", "address", "register_number", "vat_id")}


class ContactForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    function = StringField(_l("Function"), validators=[Optional(), Length(max=120)])
    email = EmailField(_l("E-mail (work)"), validators=[
        Optional(), Length(max=200),
        Regexp(r"\A[^@\s]+@[^@\s]+\.[^@\s]+\Z", message=_l("Please enter an e-mail address."))])
    once = once_field()
