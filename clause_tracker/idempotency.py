"""One-time form tokens: a form sent twice (double click, reload, back button) acts once.

The form carries a random token; the service spends it in the same transaction as the
change it makes. A second submission finds the token taken and is shown the first result.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column
from wtforms import HiddenField
from wtforms.validators import DataRequired, Regexp

from clause_tracker.clock import utcnow
from clause_tracker.extensions import Model, db


class SubmittedForm(Model):
    __tablename__ = "submitted_forms"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    object_type: Mapped[str] = mapped_column(String(60))
    object_id: Mapped[str] = mapped_column(String(80))
    submitted_at: Mapped[datetime]


def new_token() -> str:
    return secrets.token_hex(16)


def once_field() -> HiddenField:
    """The hidden field every create form carries; fill it with `new_token()` on GET."""
    return HiddenField(validators=[DataRequired(), Regexp(r"\A[0-9a-f]{32}\Z")],
                       default=new_token)


def already_done(token: str) -> SubmittedForm | None:
    return db.session.scalar(select(SubmittedForm).where(SubmittedForm.token == token))


class AlreadySubmitted(RuntimeError):
    """The form was sent before; the change it asks for is already made."""


def spend(token: str, object_type: str, object_id: object) -> None:
    """Mark the token used by this change (inside its unit of work); a duplicate, even a
    concurrent one failing on the primary key, raises AlreadySubmitted and so rolls the
    whole change back."""
    if already_done(token):
        raise AlreadySubmitted(token)
    db.session.add(SubmittedForm(token=token, object_type=object_type,
                                 object_id=str(object_id), submitted_at=utcnow()))
    try:
        db.session.flush()
    except IntegrityError as exc:
        raise AlreadySubmitted(token) from exc
