"""The daily e-mail digest of Meine Aufgaben: the same tasks as the page, in the one message a
person gets per day (the outbox of the compliance reminders: never twice, retried).

`queue(day)` makes sure everyone with tasks has a message for the day; the outbox renders
each message when it sends it, and asks `lines(message)` for the tasks at that moment, so a
task done in the meantime is not mailed.
"""

from __future__ import annotations

from datetime import date

from flask import current_app
from sqlalchemy import exists, select

from clause_tracker.auth.models import User
from clause_tracker.checks.outbox import PENDING, OutboxMessage
from clause_tracker.clock import utcnow
from clause_tracker.extensions import db
from clause_tracker.inbox.services import Task, tasks_for
from clause_tracker.sql import dialect_insert
from clause_tracker.transaction import transactional


def _tasks(user: User, day: date) -> list[Task]:
    """The user's tasks, their links made as the app's base URL names them."""
    base = current_app.config.get("APP_BASE_URL") or "http://localhost"
    with current_app.test_request_context("/", base_url=base):
        return tasks_for(user, day)


def _recipients() -> list[User]:
    return list(db.session.scalars(select(User).where(
        User.active.is_(True), User.email.is_not(None), User.email != "")))


@transactional
def queue(day: date) -> int:
    """A pending message of `day` for everyone with tasks who has none pending (one message
    per person and day; an existing one takes the digest too). Returns the messages added."""
    now, added = utcnow(), 0
    for user in _recipients():
        assert user.email is not None  # selected so
        pending = exists().where(OutboxMessage.recipient == user.email,
                                 OutboxMessage.status == PENDING,
                                 OutboxMessage.prepared.is_(False))
        if db.session.scalar(select(pending)) or not _tasks(user, day):
            continue
        # On the session's connection (Core): a CursorResult whose rowcount says whether
        # the row went in or met today's message of that recipient.
        result = db.session.connection().execute(dialect_insert(OutboxMessage).values(
            recipient=user.email, day=day, locale=user.locale or "de", status=PENDING,
            attempts=0, next_attempt_at=now, created_at=now).on_conflict_do_nothing())
        added += result.rowcount or 0
    return added


def lines(message: OutboxMessage) -> list[Task]:
    """The tasks of the message's recipient (an outbox section, see notifications.render)."""
    user = db.session.scalar(select(User).where(User.email == message.recipient,
                                                User.active.is_(True)).limit(1))
    return _tasks(user, message.day) if user is not None else []
