from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import Form, SelectField, StringField
from wtforms.validators import Length, Optional

from clause_tracker.german_fields import GermanDateField
from clause_tracker.request_args import day_in_range


class EventFilterForm(Form):
    """A GET form: filters are part of the URL, nothing changes, so no CSRF token."""

    action = SelectField(_l("Action"), validators=[Optional()], validate_choice=False)
    actor = StringField(_l("User"), validators=[Optional(), Length(max=80)])
    object_type = SelectField(_l("Record type"), validators=[Optional()], validate_choice=False)
    object_id = StringField(_l("Record ID"), validators=[Optional(), Length(max=80)])
    since = GermanDateField(_l("From"), validators=[Optional(), day_in_range])
    until = GermanDateField(_l("To"), validators=[Optional(), day_in_range])
