"""Mail delivered at least once, through a REAL SMTP server on loopback (aiosmtpd): a long
outage (time-travelled with time-machine), connections cut in the middle of the DATA
dialogue, the capped back-off, the give-up after MAIL_RETRY_DAYS and the outage alert."""

from __future__ import annotations

import asyncio
import email
import email.policy
import itertools
from collections import Counter
from datetime import date, datetime, timedelta

import pytest
import time_machine
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from clause_tracker.checks import notifications
from clause_tracker.checks.outbox import MailOutage, OutboxMessage
from clause_tracker.extensions import db
from tests.compliance.conftest import Mailbox

DAY = date(2025, 3, 3)
START = datetime(2025, 3, 3, 8, 0)
ALERT_TO = "bmi@jena.example"


class CuttingMailbox(Mailbox):
    """Accepts mail like `Mailbox`, but drops the connection in the middle of DATA: the
    first `lost_replies` messages are kept and the connection cut before the "250" (the
    sender never learns that they arrived), the next `cut_before` ones are cut before
    they are kept."""

    def __init__(self, port: int, lost_replies: int = 0, cut_before: int = 0,
                 stalled: int = 0) -> None:
        super().__init__(port)
        self.lost_replies, self.cut_before, self.stalled = lost_replies, cut_before, stalled

    def start(self) -> None:
        box = self

        class Handler:
            async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd's hook
                message = email.message_from_bytes(envelope.content,
                                                   policy=email.policy.default)
                if box.lost_replies > 0:
                    box.lost_replies -= 1
                    box.messages.append(message)
                    server.transport.abort()  # kept, but the reply never leaves
                    return "250 OK"
                if box.stalled > 0:  # kept, but the reply comes after the sender gave up
                    box.stalled -= 1
                    box.messages.append(message)
                    await asyncio.sleep(3)
                    return "250 OK"
                if box.cut_before > 0:
                    box.cut_before -= 1
                    server.transport.abort()
                    return "451 cut"
                box.messages.append(message)
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()


@pytest.fixture
def delivery_config(app, mailbox: Mailbox) -> Mailbox:
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=mailbox.port, MAIL_TIMEOUT_SECONDS=5,
                      MAIL_RETRY_BASE_SECONDS=60, MAIL_RETRY_MAX_SECONDS=1800,
                      MAIL_RETRY_DAYS=3, MAIL_ALERT_TO=(ALERT_TO,))
    return mailbox


def _queue(n: int, at: datetime = START) -> list[int]:
    for i in range(n):
        assert notifications.queue_prepared(f"officer{i}@jena.example", f"Erinnerung {i}",
                                            f"Text {i}", DAY, now=at)
    db.session.commit()
    return list(db.session.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id)))


def _dispatch(at: datetime) -> notifications.DispatchReport:
    with time_machine.travel(at, tick=False):
        return notifications.dispatch(now=at)


def _statuses() -> dict[str, int]:
    db.session.expire_all()
    return notifications.counts()


def _ids(messages) -> Counter:
    return Counter(m["Message-ID"] for m in messages if m["To"] != ALERT_TO)


def test_a_long_outage_then_every_message_is_delivered_once(app, client, signed_in,
                                                             delivery_config) -> None:
    ids = _queue(12)
    at, attempts_at = START, []
    while at < START + timedelta(hours=10):  # the server is down
        report = _dispatch(at)
        if report.retried:
            attempts_at.append(at)
        # The next dispatch when the next attempt is due (the scheduler's every minute
        # would find nothing due in between), at least a minute on.
        due = db.session.scalar(select(func.min(OutboxMessage.next_attempt_at)))
        db.session.commit()
        at = max(at + timedelta(minutes=1), due)
    assert _statuses() == {"pending": 12}  # nothing given up, nothing lost
    gaps = {b - a for a, b in itertools.pairwise(attempts_at)}
    assert max(gaps) == timedelta(seconds=1800)  # doubled up to the cap, no further
    assert timedelta(seconds=120) in gaps and timedelta(seconds=960) in gaps

    # An hour without mail while messages wait: the operations page says so.
    with time_machine.travel(at, tick=False):
        signed_in("admin")
        page = client.get("/compliance/admin").get_data(as_text=True)
    assert 'id="mail-outage"' in page and "12 Nachricht(en) warten" in page, page
    outage = db.session.scalar(select(MailOutage))
    assert outage.alerted_at is None and outage.ended_at is None  # the alert could not go out

    delivery_config.start()
    at += timedelta(minutes=30)
    report = _dispatch(at)
    assert report.sent == 12 and report.outage_alerted
    assert _statuses() == {"sent": 12}
    assert sorted(_ids(delivery_config.messages).values()) == [1] * 12
    assert set(_ids(delivery_config.messages)) == {
        notifications.message_id_header(db.session.get(OutboxMessage, i)) for i in ids}
    # One alert for the outage, however many dispatches saw it; the outage has ended.
    for minutes in range(1, 10):
        _dispatch(at + timedelta(minutes=minutes))
    alerts = [m for m in delivery_config.messages if m["To"] == ALERT_TO]
    assert len(alerts) == 1 and "E-Mail-Versand gestört" in alerts[0]["Subject"]
    db.session.expire_all()
    assert db.session.scalar(select(MailOutage)).ended_at is not None
    with time_machine.travel(at + timedelta(minutes=10), tick=False):
        assert 'id="mail-outage"' not in client.get("/compliance/admin").get_data(as_text=True)


def test_a_second_outage_gets_its_own_alert(app, delivery_config) -> None:
    delivery_config.start()
    _queue(1)
    _dispatch(START)
    delivery_config.stop()
    for outage_start in (START + timedelta(days=1), START + timedelta(days=2)):
        assert notifications.queue_prepared("audit@jena.example", "Anker", "x",
                                            outage_start.date(), now=outage_start)
        db.session.commit()
        for minutes in range(0, 90, 5):
            _dispatch(outage_start + timedelta(minutes=minutes))
        delivery_config.start()
        for minutes in (95, 130):  # the back-off's next attempt (at most 30 minutes on)
            _dispatch(outage_start + timedelta(minutes=minutes))
        assert _statuses() == {"sent": 2 if outage_start.day == 4 else 3}
        delivery_config.stop()
    alerts = [m for m in delivery_config.messages if m["To"] == ALERT_TO]
    assert len(alerts) == 2
    assert len({m["Message-ID"] for m in alerts}) == 2
    assert db.session.scalar(select(func.count()).select_from(MailOutage).where(
        MailOutage.ended_at.is_not(None))) == 2


def test_connections_cut_mid_data_are_retried_and_duplicates_keep_their_message_id(
        app, delivery_config) -> None:
    box = CuttingMailbox(delivery_config.port, lost_replies=3, cut_before=2)
    try:
        box.start()
        ids = _queue(10)
        at = START
        for _ in range(20):
            _dispatch(at)
            if _statuses() == {"sent": 10}:
                break
            at += timedelta(minutes=5)
        assert _statuses() == {"sent": 10}
        received = _ids(box.messages)
        assert set(received) == {notifications.message_id_header(
            db.session.get(OutboxMessage, i)) for i in ids}  # every one delivered
        # The copies whose reply was lost came twice, with the same Message-ID; the ones
        # cut before the server kept them came once.
        assert sum(n - 1 for n in received.values()) == 3
        assert sorted(received.values()) == [1] * 7 + [2] * 3
    finally:
        box.stop()


def test_a_reply_slower_than_the_timeout_means_sent_again(app, delivery_config) -> None:
    app.config["MAIL_TIMEOUT_SECONDS"] = 1
    box = CuttingMailbox(delivery_config.port, stalled=1)
    try:
        box.start()
        (message_id,) = _queue(1)
        report = _dispatch(START)
        assert (report.sent, report.retried) == (0, 1)  # timed out waiting for the "250"
        message = db.session.get(OutboxMessage, message_id)
        db.session.refresh(message)
        assert "timed out" in message.last_error
        assert _dispatch(START + timedelta(seconds=61)).sent == 1
        assert list(_ids(box.messages).values()) == [2]  # one message, twice, one Message-ID
    finally:
        box.stop()


def test_failed_messages_are_given_up_after_the_configured_days(app, client, signed_in,
                                                                delivery_config) -> None:
    app.config["MAIL_RETRY_DAYS"] = 1
    (message_id,) = _queue(1)
    at = START
    while at <= START + timedelta(days=1, hours=1):
        _dispatch(at)
        due = db.session.scalar(select(func.min(OutboxMessage.next_attempt_at)))
        db.session.commit()
        at = max(at + timedelta(minutes=10), due)  # the next dispatch with something due
    message = db.session.get(OutboxMessage, message_id)
    db.session.refresh(message)
    assert message.status == "failed"
    assert message.last_error.startswith("given up after")
    assert message.deliver_by == START + timedelta(days=1)
    assert 20 < message.attempts < 60  # retried all day long, at most every 30 minutes
    signed_in("admin")
    page = client.get("/compliance/admin").get_data(as_text=True)
    assert "given up after" in page  # visible, with its action to send it again
    delivery_config.start()
    assert _dispatch(at).sent == 0  # given up: not sent by itself
    assert notifications.requeue(message_id, at)
    assert _dispatch(at + timedelta(minutes=1)).sent == 1
    assert len(_ids(delivery_config.messages)) == 1
