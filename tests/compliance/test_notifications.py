"""Reminders by e-mail through a REAL SMTP server on loopback (aiosmtpd): one message per
recipient and day, German or English, retried with backoff, never sent twice."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from clause_tracker.checks import notifications, sweep
from clause_tracker.checks.outbox import OutboxMessage
from clause_tracker.extensions import db

DAY = date(2025, 3, 3)
NOW = datetime(2025, 3, 3, 8, 0)


def _due_items(agreement, officer, n: int = 3, **officer_args):
    user = officer(**officer_args)
    for _ in range(n):
        agreement(start_date=date(2023, 1, 1))
    sweep.run(DAY)
    return user


def test_one_message_per_recipient_bundles_the_items(app, agreement, officer,
                                                     mail_config) -> None:
    mail_config.start()
    other = officer(email="kollegin@jena.example", locale="en")
    vera = _due_items(agreement, officer, 3)
    report = notifications.dispatch(now=NOW)
    assert report.sent == 2
    assert mail_config.recipients() == sorted([vera.email, other.email])
    german = next(m for m in mail_config.messages if m["To"] == vera.email)
    english = next(m for m in mail_config.messages if m["To"] == other.email)
    assert "3 Überprüfung(en) fällig" in german["Subject"]
    assert german.get_content().count("Regelüberprüfung") == 3
    assert "compliance check(s) due" in english["Subject"]
    # Again: nothing new to send.
    assert notifications.dispatch(now=NOW + timedelta(minutes=5)).sent == 0
    sweep.run(DAY)
    assert notifications.dispatch(now=NOW + timedelta(minutes=10)).sent == 0
    assert len(mail_config.messages) == 2


def test_smtp_down_then_up_nothing_lost_nothing_doubled(app, agreement, officer,
                                                        mail_config) -> None:
    vera = _due_items(agreement, officer, 2)
    first = notifications.dispatch(now=NOW)  # nobody listens on the port yet
    assert (first.sent, first.retried) == (0, 1)
    message = db.session.scalar(select(OutboxMessage))
    assert (message.status, message.attempts) == ("pending", 1)
    assert message.next_attempt_at == NOW + timedelta(seconds=60)
    assert "ConnectionRefused" in message.last_error
    # Still down at the second try: the delay doubles.
    second = notifications.dispatch(now=NOW + timedelta(seconds=61))
    assert second.retried == 1
    db.session.refresh(message)
    assert message.next_attempt_at == NOW + timedelta(seconds=61 + 120)
    # Before the delay is over nothing is tried, even with the server up.
    mail_config.start()
    assert notifications.dispatch(now=NOW + timedelta(seconds=100)).sent == 0
    up = notifications.dispatch(now=NOW + timedelta(seconds=200))
    assert up.sent == 1
    assert notifications.dispatch(now=NOW + timedelta(hours=1)).sent == 0
    assert mail_config.recipients() == [vera.email]
    db.session.refresh(message)
    assert (message.status, message.attempts) == ("sent", 3)


def test_a_claimed_message_is_not_sent_by_anyone_else(app, agreement, officer,
                                                      mail_config) -> None:
    mail_config.start()
    _due_items(agreement, officer, 1)
    notifications.bundle(DAY, NOW)
    message_id = db.session.scalar(select(OutboxMessage.id))
    assert notifications.claim(message_id, NOW, "a") is not None
    assert notifications.claim(message_id, NOW, "b") is None
    # The first sender died mid-dialogue: before the lease nobody sends it; after it, it is
    # "interrupted" and sent again (at least once), with the Message-ID it always had.
    assert notifications.dispatch(now=NOW + timedelta(minutes=9)).sent == 0
    report = notifications.dispatch(now=NOW + timedelta(minutes=11))
    assert (report.interrupted, report.sent) == (1, 1)
    assert [m["Message-ID"] for m in mail_config.messages] == [
        f"<outbox-{message_id}-{DAY:%Y%m%d}@clause-tracker.jena>"]
    assert not notifications.requeue(message_id, NOW)  # sent: nothing to queue again


def test_items_of_a_later_day_go_into_the_next_message(app, agreement, officer,
                                                       mail_config) -> None:
    mail_config.start()
    vera = _due_items(agreement, officer, 1)
    notifications.dispatch(now=NOW)
    agreement(start_date=date(2023, 1, 1))
    sweep.run(DAY + timedelta(days=1))
    notifications.dispatch(now=NOW + timedelta(days=1))
    assert mail_config.recipients() == [vera.email, vera.email]
    days = sorted(db.session.scalars(select(OutboxMessage.day)))
    assert days == [DAY, DAY + timedelta(days=1)]
