"""Compliance fixtures: agreements written straight into the tables (fast, many), officers
with e-mail addresses, a real SMTP server on loopback (aiosmtpd) that keeps what it gets."""

from __future__ import annotations

import email
import email.policy
import socket
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal

import pytest

from clause_tracker.agreements.models import MODEL_OF_KIND, Agreement
from clause_tracker.auth.services import create_user
from clause_tracker.bootstrap import DEMO_UNITS
from clause_tracker.clock import utcnow
from clause_tracker.counterparties.models import Counterparty
from clause_tracker.declarations.models import Declaration
from clause_tracker.extensions import db
from clause_tracker.orgunits.models import OrgUnit
from clause_tracker.orgunits.services import ensure_unit

UNITS = {code: (name, kind) for code, name, kind in DEMO_UNITS}


def unit(code: str) -> OrgUnit:
    return ensure_unit(code, *UNITS[code])


@pytest.fixture
def officer(app) -> Callable[..., object]:
    """officer("procurement_officer", "ZVS", "vera@jena.de") → a user with an address."""

    def make(role: str = "procurement_officer", code: str = "ZVS",
             email: str | None = None, locale: str | None = None) -> object:
        name = f"{role[:4]}-{uuid.uuid4().hex[:6]}"
        user = create_user(name, "correct horse battery", role, org_unit=unit(code),
                           email=email or f"{name}@jena.example")
        if locale:
            user.locale = locale
            db.session.commit()
        return user

    return make


@pytest.fixture
def counterparty(app) -> Counterparty:
    row = Counterparty(name="Muster Bau GmbH", created_at=utcnow())
    db.session.add(row)
    db.session.commit()
    return row


@pytest.fixture
def agreement(app, counterparty) -> Callable[..., Agreement]:
    """agreement(kind="contract", unit="ZVS", status="active", **values)."""

    def make(kind: str = "contract", code: str = "ZVS", status: str = "active",
             commit: bool = True, **values) -> Agreement:
        now = utcnow()
        defaults = dict(reference=f"A-{uuid.uuid4().hex[:8]}", subject="Reinigung der Schulen",
                        status=status, org_unit_id=unit(code).id,
                        counterparty_id=counterparty.id, value=Decimal("100000"),
                        start_date=date(2025, 1, 1), end_date=date(2027, 12, 31),
                        decided_on=date(2024, 12, 1), created_at=now, updated_at=now)
        row = MODEL_OF_KIND[kind](**(defaults | values))
        db.session.add(row)
        if commit:
            db.session.commit()
        return row

    return make


def declaration(agreement: Agreement, state: str = "accepted", **values) -> Declaration:
    now = utcnow()
    decl = Declaration(agreement=agreement, party=values.pop("party", "main"),
                       party_name="Muster Bau GmbH", state=state, created_at=now,
                       updated_at=now, **values)
    db.session.add(decl)
    db.session.commit()
    return decl


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    """A real SMTP server on loopback; `messages` is what it accepted."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.messages: list = []
        self.controller = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.handlers import Message

        box = self

        class Keep(Message):
            def handle_message(self, message) -> None:
                # Re-read with the modern policy: decoded headers, get_content().
                box.messages.append(email.message_from_bytes(message.as_bytes(),
                                                             policy=email.policy.default))

        self.controller = Controller(Keep(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def recipients(self) -> list[str]:
        return sorted(msg["To"] for msg in self.messages)


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox(free_port())
    yield box
    box.stop()


@pytest.fixture
def mail_config(app, mailbox: Mailbox) -> Mailbox:
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=mailbox.port, MAIL_TIMEOUT_SECONDS=5)
    return mailbox


@pytest.fixture
def app_config(app_config: dict[str, object]) -> dict[str, object]:
    # No random sample unless a test asks for one: the other triggers stay exact.
    app_config["COMPLIANCE_SAMPLE_SHARE"] = "0"
    # An old agreement's first routine check due on the first sweep, not spread over the
    # coming year, so that the tests of reminders, escalation and outcomes meet it at once
    # (the spread has its own tests in test_sweep.py).
    app_config["COMPLIANCE_SPREAD_FIRST_CHECKS"] = False
    return app_config
