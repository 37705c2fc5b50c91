"""The steering group's texts for the ECCAR report: one field per section."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import Length, Optional

from clause_tracker.overview.narratives import MAX_LENGTH, SECTION_LABELS


class NarrativeForm(FlaskForm):
    summary = TextAreaField(SECTION_LABELS["summary"],
                            validators=[Optional(), Length(max=MAX_LENGTH)])
    commitment_2 = TextAreaField(SECTION_LABELS["commitment_2"],
                                 validators=[Optional(), Length(max=MAX_LENGTH)])
    commitment_3 = TextAreaField(SECTION_LABELS["commitment_3"],
                                 validators=[Optional(), Length(max=MAX_LENGTH)])
    commitment_5 = TextAreaField(SECTION_LABELS["commitment_5"],
                                 validators=[Optional(), Length(max=MAX_LENGTH)])
    commitment_6 = TextAreaField(SECTION_LABELS["commitment_6"],
                                 validators=[Optional(), Length(max=MAX_LENGTH)])
    commitment_8 = TextAreaField(SECTION_LABELS["commitment_8"],
                                 validators=[Optional(), Length(max=MAX_LENGTH)])
