"""Compliance fixtures: a real SMTP server on loopback (aiosmtpd) that keeps what it gets, and
settings that keep the schedule exact. Agreements (`agreement`, straight into the tables) and
officers with e-mail addresses (`officer`) come from tests/factories.py."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator

import pytest


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
