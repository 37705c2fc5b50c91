"""E-mail reminders: bundle the queued items into one message per recipient and day, and
deliver the outbox through SMTP.

At least once, one sender at a time: a message is claimed by a status transition in the
database (pending → sending, one UPDATE that only one process can win) and its body is
frozen at that moment. Nothing lost: an SMTP failure puts it back to pending with a delay
that doubles up to MAIL_RETRY_MAX_SECONDS, for MAIL_RETRY_DAYS after the first failure;
only then is it `failed`, shown to the administrators. A process that dies during the SMTP
dialogue leaves the message `sending`; after MAIL_INTERRUPTED_MINUTES it is `interrupted`
and sent again.

SMTP's limit: when the server has accepted a message but its reply is lost (the connection
cut after the data, a timeout), the sender cannot know, and sends it again. The copy carries
the same Message-ID (one per outbox message, the same on every attempt), by which mail
clients and the recipient can recognise the duplicate.

When no message has gone out for MAIL_OUTAGE_ALERT_MINUTES while messages wait, the
operations page shows an alert and the escalation address gets one e-mail per outage.
"""

from __future__ import annotations

import logging
import os
import smtplib
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from flask import Flask, current_app
from flask_babel import force_locale
from sqlalchemy import and_, exists, func, literal, or_, select, update
from sqlalchemy.orm import aliased

from clause_tracker.agreements.models import Agreement
from clause_tracker.audit.services import record
from clause_tracker.checks.models import (
    ComplianceCheck,
)
from clause_tracker.checks.outbox import (
    FAILED,
    INTERRUPTED,
    PENDING,
    SENDING,
    SENT,
    MailOutage,
    OutboxMessage,
    Reminder,
)
from clause_tracker.clock import utcnow
from clause_tracker.extensions import db
from clause_tracker.orgunits.models import OrgUnit
from clause_tracker.sql import dialect_insert
from clause_tracker.transaction import transactional

log = logging.getLogger(__name__)
WAITING = (PENDING, INTERRUPTED, SENDING)  # not yet known to be out
RETRYABLE = (PENDING, INTERRUPTED)
TEMPLATES = {"de": "compliance/mail/reminder_de.txt", "en": "compliance/mail/reminder_en.txt"}


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# --- bundling --------------------------------------------------------------------------------

def bundle(day: date, now: datetime | None = None) -> int:
    """Attach every queued item to its recipient's pending message (creating today's
    message where the recipient has none pending). Returns the items attached."""
    msg = OutboxMessage
    now = now or utcnow()
    waiting = select(Reminder.recipient).where(Reminder.message_id.is_(None))
    pending_other = aliased(OutboxMessage)
    new = (
        select(Reminder.recipient, literal(day), func.min(Reminder.locale), literal(PENDING),
               literal(0), literal(now), literal(now))
        .where(Reminder.message_id.is_(None),
               ~exists().where(pending_other.recipient == Reminder.recipient,
                               pending_other.status == PENDING,
                               pending_other.prepared.is_(False)))
        .group_by(Reminder.recipient)
    )
    db.session.execute(dialect_insert(msg).from_select(
        ["recipient", "day", "locale", "status", "attempts", "next_attempt_at", "created_at"],
        new).on_conflict_do_nothing())
    # Lock the pending messages we attach to (a no-op UPDATE takes the row lock), so a
    # dispatcher cannot claim one between our choice and our commit: its claim waits,
    # then sees the items.
    bundles = msg.prepared.is_(False)
    db.session.execute(update(msg).where(msg.status == PENDING, bundles,
                                         msg.recipient.in_(waiting))
                       .values(attempts=msg.attempts))
    target = (select(func.min(msg.id)).where(msg.recipient == Reminder.recipient,
                                             msg.status == PENDING, bundles)
              .scalar_subquery())
    attached = db.session.execute(  # type: ignore[attr-defined]  # DML: a CursorResult
        update(Reminder).where(Reminder.message_id.is_(None),
                               exists().where(msg.recipient == Reminder.recipient,
                                              msg.status == PENDING, bundles))
        .values(message_id=target)).rowcount or 0
    db.session.commit()
    return attached


# --- prepared messages -----------------------------------------------------------------------

def queue_prepared(recipient: str, subject: str, body: str, day: date,
                   now: datetime | None = None) -> bool:
    """Queue a message written whole now (not rendered from reminders at sending), one per
    recipient and day, in the caller's transaction; False when that day's is queued already.
    Sent by the dispatcher like every message: never twice, retried with back-off."""
    now = now or utcnow()
    result = db.session.connection().execute(dialect_insert(OutboxMessage).values(
        recipient=recipient, day=day, locale="de", status=PENDING, subject=subject[:300],
        body=body, attempts=0, next_attempt_at=now, created_at=now, prepared=True)
        .on_conflict_do_nothing())
    return bool(result.rowcount)


# --- rendering -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Item:
    kind: str
    reference: str
    subject: str
    unit: str
    trigger: str
    due_on: date
    deadline: date
    check_id: int


def items_of(message_id: int) -> list[Item]:

    check = ComplianceCheck
    rows = db.session.execute(
        select(Reminder.kind, Agreement.reference, Agreement.subject, OrgUnit.code,
               check.trigger, check.due_on, check.deadline, check.id)
        .join(check, check.id == Reminder.check_id)
        .join(Agreement, Agreement.id == check.agreement_id)
        .join(OrgUnit, OrgUnit.id == Agreement.org_unit_id)
        .where(Reminder.message_id == message_id)
        .order_by(Reminder.kind.desc(), check.deadline, Agreement.reference))
    return [Item(*row) for row in rows]


_SECTIONS = "clause_tracker.outbox_sections"


def init_app(app: Flask, sections: Iterable[Callable[[OutboxMessage], list[Any]]]) -> None:
    """Further content of the daily message, from packages above (the digest of Meine
    Aufgaben): each gives the items to list for a message's recipient."""
    app.extensions[_SECTIONS] = tuple(sections)


def render(message: OutboxMessage) -> tuple[str, str]:
    items = items_of(message.id)
    tasks = [task for section in current_app.extensions.get(_SECTIONS, ())
             for task in section(message)]
    locale = message.locale if message.locale in TEMPLATES else "de"
    template = current_app.jinja_env.get_template(TEMPLATES[locale])
    base = (current_app.config.get("APP_BASE_URL") or "").rstrip("/")
    with force_locale(locale):
        body = template.render(items=items, tasks=tasks, base_url=base, day=message.day)
    overdue = sum(1 for i in items if i.kind != "due")
    if locale == "de":
        subject = (f"Antirassismusklausel: {len(items)} Überprüfung(en) fällig"
                   + (f", davon {overdue} überfällig" if overdue else "")) if items else \
            f"Antirassismusklausel: {len(tasks)} Aufgabe(n)"
    else:
        subject = (f"Anti-racism clause: {len(items)} compliance check(s) due"
                   + (f", {overdue} overdue" if overdue else "")) if items else \
            f"Anti-racism clause: {len(tasks)} task(s)"
    return subject, body


# --- delivery --------------------------------------------------------------------------------

def claim(message_id: int, now: datetime, worker: str) -> OutboxMessage | None:
    """pending (or interrupted) → sending, for exactly one caller; the body is frozen in
    the same step."""
    won = db.session.execute(  # type: ignore[attr-defined]  # DML: a CursorResult
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status.in_(RETRYABLE),
               OutboxMessage.next_attempt_at <= now)
        .values(status=SENDING, claimed_at=now, claimed_by=worker,
                attempts=OutboxMessage.attempts + 1)).rowcount
    if won != 1:
        db.session.rollback()
        return None
    message = db.session.get(OutboxMessage, message_id, populate_existing=True)
    assert message is not None
    if not message.prepared:  # a prepared message was written whole when queued
        message.subject, message.body = render(message)
    db.session.commit()
    return message


def message_id_header(message: OutboxMessage) -> str:
    """The message's Message-ID: the same on every attempt, so that a copy sent again after
    a lost reply is recognisable as the same message."""
    return f"<outbox-{message.id}-{message.day:%Y%m%d}@clause-tracker.jena>"


def _smtp_deliver(email: EmailMessage) -> None:
    c = current_app.config
    timeout = float(c["MAIL_TIMEOUT_SECONDS"])
    cls = smtplib.SMTP_SSL if c.get("MAIL_USE_SSL") else smtplib.SMTP
    with cls(c["MAIL_SERVER"], int(c["MAIL_PORT"]), timeout=timeout) as smtp:
        if c.get("MAIL_USE_TLS") and not c.get("MAIL_USE_SSL"):
            smtp.starttls()
        if c.get("MAIL_USERNAME"):
            smtp.login(c["MAIL_USERNAME"], c.get("MAIL_PASSWORD") or "")
        smtp.send_message(email)


def _email(to: str, subject: str, body: str, message_id: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = current_app.config["MAIL_SENDER"]
    email["To"] = to
    email["Subject"] = subject
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = message_id
    email.set_content(body)
    return email


def smtp_send(message: OutboxMessage) -> None:
    _smtp_deliver(_email(message.recipient, message.subject or "", message.body or "",
                         message_id_header(message)))


def backoff(attempts: int) -> timedelta:
    """The delay after the `attempts`-th failed attempt: doubling, capped."""
    c = current_app.config
    base, cap = int(c["MAIL_RETRY_BASE_SECONDS"]), int(c["MAIL_RETRY_MAX_SECONDS"])
    return timedelta(seconds=min(cap, base * 2 ** min(max(0, attempts - 1), 40)))


def _finish(message_id: int, **values: object) -> None:
    db.session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id,
                                                   OutboxMessage.status == SENDING)
                       .values(**values))
    db.session.commit()


@dataclass
class DispatchReport:
    bundled: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    interrupted: int = 0
    outage_alerted: bool = False


def dispatch(now: datetime | None = None, day: date | None = None,
             limit: int = 200) -> DispatchReport:
    """Bundle, then deliver what is due. Safe to run in several processes at once."""
    now = now or utcnow()
    c = current_app.config
    report = DispatchReport()
    report.bundled = bundle(day or now.date(), now)
    lease = timedelta(minutes=float(c["MAIL_INTERRUPTED_MINUTES"]))
    report.interrupted = db.session.execute(  # type: ignore[attr-defined]  # DML: a CursorResult
        update(OutboxMessage).where(OutboxMessage.status == SENDING,
                                    OutboxMessage.claimed_at < now - lease)
        .values(status=INTERRUPTED, next_attempt_at=now,
                last_error="interrupted during delivery; sent again (it may arrive twice, "
                           "with the same Message-ID)")
    ).rowcount or 0
    db.session.commit()
    report.outage_alerted = watch_outage(now)
    retry_for = timedelta(days=float(c["MAIL_RETRY_DAYS"]))
    candidates = list(db.session.scalars(
        select(OutboxMessage.id).where(OutboxMessage.status.in_(RETRYABLE),
                                       OutboxMessage.next_attempt_at <= now,
                                       or_(OutboxMessage.prepared,
                                           exists().where(Reminder.message_id
                                                          == OutboxMessage.id)))
        .order_by(OutboxMessage.id).limit(limit)))
    db.session.commit()
    worker = worker_name()
    for message_id in candidates:
        message = claim(message_id, now, worker)
        if message is None:
            continue  # another dispatcher has it
        try:
            smtp_send(message)
        except (OSError, smtplib.SMTPException) as exc:
            attempts = message.attempts
            error = f"{type(exc).__name__}: {exc}"[:450]
            deliver_by = message.deliver_by or now + retry_for
            if now >= deliver_by:
                _finish(message_id, status=FAILED, deliver_by=deliver_by,
                        last_error=f"given up after {attempts} attempts: {error}")
                report.failed += 1
            else:
                _finish(message_id, status=PENDING, last_error=error, deliver_by=deliver_by,
                        next_attempt_at=now + backoff(attempts))
                report.retried += 1
            log.warning("mail to %s failed (attempt %s): %s", message.recipient, attempts, error)
            continue
        _finish(message_id, status=SENT, sent_at=utcnow(), last_error=None)
        report.sent += 1
    if report.sent:
        watch_outage(utcnow())  # mail goes out again: the outage has ended
    return report


# --- outages ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Outage:
    waiting: int  # messages not yet out
    waiting_since: datetime  # the oldest of them was queued then
    last_sent_at: datetime | None
    alerted_at: datetime | None = None


def outage(now: datetime | None = None) -> Outage | None:
    """No message out for MAIL_OUTAGE_ALERT_MINUTES while one has waited that long: read
    from the outbox itself, so the page shows it even when no dispatcher runs."""
    now = now or utcnow()
    quiet = now - timedelta(minutes=float(current_app.config["MAIL_OUTAGE_ALERT_MINUTES"]))
    waiting, since = db.session.execute(
        select(func.count(), func.min(OutboxMessage.created_at))
        .where(OutboxMessage.status.in_(WAITING))).one()
    if not waiting or since is None or since > quiet:
        return None
    last = db.session.scalar(select(func.max(OutboxMessage.sent_at)))
    if last is not None and last > quiet:
        return None
    alerted = db.session.scalar(select(MailOutage.alerted_at).where(
        MailOutage.ended_at.is_(None)).order_by(MailOutage.id.desc()).limit(1))
    return Outage(waiting, since, last, alerted)


def alert_recipients() -> list[str]:
    c = current_app.config
    found = c.get("MAIL_ALERT_TO") or c.get("COMPLIANCE_ESCALATION_EMAILS") or ()
    if isinstance(found, str):
        found = found.split("|")
    return [address.strip() for address in found if address.strip()]


def watch_outage(now: datetime) -> bool:
    """Open an outage row when one begins, tell the escalation address once (tried again at
    each dispatch until it goes out), close the row when mail goes out again. Its own
    transaction. True when the alert e-mail went out now."""
    current = outage(now)
    open_row = db.session.scalar(select(MailOutage).where(MailOutage.ended_at.is_(None))
                                 .order_by(MailOutage.id.desc()).limit(1).with_for_update())
    if current is None:
        if open_row is not None:
            open_row.ended_at = now
        db.session.commit()
        return False
    if open_row is None:
        open_row = MailOutage(waiting_since=current.waiting_since, detected_at=now)
        db.session.add(open_row)
        db.session.flush()
    sent = False
    recipients = alert_recipients()
    if open_row.alerted_at is None and recipients:
        last = (f"{current.last_sent_at:%d.%m.%Y %H:%M} UTC" if current.last_sent_at
                else "nie / never")
        server = current_app.config["MAIL_SERVER"]
        body = (f"Seit {current.waiting_since:%d.%m.%Y %H:%M} UTC ist keine E-Mail des "
                f"Klausel-Trackers versandt worden; {current.waiting} Nachricht(en) warten. "
                f"Letzter Versand: {last}. Bitte den Mailserver ({server}) "
                f"und den Scheduler prüfen; die Nachrichten werden weiter zugestellt, sobald "
                f"der Versand wieder geht.\n\n"
                f"No e-mail of the clause tracker has gone out since "
                f"{current.waiting_since:%Y-%m-%d %H:%M} UTC; {current.waiting} message(s) "
                f"wait. They are delivered as soon as sending works again.\n")
        try:
            for address in recipients:
                _smtp_deliver(_email(address, "Klausel-Tracker: E-Mail-Versand gestört",
                                     body, f"<outage-{open_row.id}@clause-tracker.jena>"))
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("mail outage alert not sent yet: %s", exc)
        else:
            open_row.alerted_at = now
            sent = True
    db.session.commit()
    return sent


@transactional
def requeue(message_id: int, now: datetime | None = None) -> bool:
    """An administrator's decision, audited: send an interrupted or failed message again.
    False where the message is not (any more) interrupted or failed."""
    previous = db.session.scalar(select(OutboxMessage.status).where(
        OutboxMessage.id == message_id, OutboxMessage.status.in_((INTERRUPTED, FAILED))))
    if previous is None:
        return False
    db.session.execute(
        update(OutboxMessage).where(OutboxMessage.id == message_id)
        .values(status=PENDING, next_attempt_at=now or utcnow(), attempts=0, deliver_by=None))
    record("outbox.requeue", "OutboxMessage", message_id,
           f"E-mail {message_id} queued again ({previous} before)", {"from": previous})
    return True


def counts() -> dict[str, int]:
    return dict(db.session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).tuples().all())


def problems(limit: int = 50) -> list[OutboxMessage]:
    return list(db.session.scalars(
        select(OutboxMessage).where(and_(OutboxMessage.status.in_((FAILED, INTERRUPTED))))
        .order_by(OutboxMessage.id.desc()).limit(limit)))
