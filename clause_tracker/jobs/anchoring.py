"""The nightly check of the audit trail: the chain and its newest anchor, the result
recorded in the trail, and a new anchor kept outside the database (the anchor log and,
when `AUDIT_ANCHOR_MAIL_TO` is set, an e-mail to the audit office through the outbox)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import current_app

from clause_tracker.audit import anchors
from clause_tracker.audit.services import VerifyResult, head, record_verification, verify_anchored
from clause_tracker.checks.notifications import queue_prepared
from clause_tracker.clock import today, utcnow
from clause_tracker.transaction import transactional

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NightlyResult:
    result: VerifyResult
    anchor: str | None  # the anchor appended (none after a failed check)
    mailed: int  # messages queued for the audit office


def nightly_check() -> NightlyResult:
    """Check the chain against the newest anchor, record the result; on success append the
    trail's new head (the recorded result itself) to the anchor log and mail it. A failed
    check appends nothing (an anchor must never vouch for a broken trail) and mails an
    alarm instead."""
    result = verify_anchored()
    record_verification(result)
    if not result.ok:
        log.error("audit trail TAMPERED: %s", result.problem)
        return NightlyResult(result, None, _mail(_alarm(result)))
    event = head()
    assert event is not None  # the result was just recorded
    line = anchors.append(event.id, event.hash)
    return NightlyResult(result, line, _mail(_anchor_mail(line, result)))


def _anchor_mail(line: str, result: VerifyResult) -> tuple[str, str]:
    when = utcnow().strftime("%Y-%m-%d %H:%M UTC")
    subject = f"Antirassismusklausel: Anker des Audit-Trails {line.partition(':')[0]}"
    body = (
        "Die nächtliche Prüfung des Audit-Trails hat die Hash-Kette vollständig und "
        f"unverändert gefunden ({result.checked} Einträge, {when}).\n\n"
        "Neuer Anker (bitte außerhalb der Anwendung aufbewahren):\n\n"
        f"{line}\n\n"
        f"Prüfen: clause-tracker audit verify --anchor {line}\n\n"
        "---\n"
        "The nightly check found the audit trail's hash chain complete and unchanged "
        f"({result.checked} events, {when}). New anchor, to be kept outside the "
        f"application:\n\n{line}\n"
    )
    return subject, body


def _alarm(result: VerifyResult) -> tuple[str, str]:
    problem = result.problem
    assert problem is not None
    subject = f"Antirassismusklausel: Audit-Trail MANIPULIERT (Eintrag {problem.event_id})"
    body = (
        "Die nächtliche Prüfung des Audit-Trails ist fehlgeschlagen:\n\n"
        f"{problem.message} ({problem.kind})\n\n"
        "Es wurde kein neuer Anker geschrieben.\n\n"
        "---\n"
        f"The nightly check of the audit trail FAILED: {problem.message} ({problem.kind}). "
        "No new anchor was written.\n"
    )
    return subject, body


@transactional
def _mail(message: tuple[str, str]) -> int:
    subject, body = message
    recipients = current_app.config.get("AUDIT_ANCHOR_MAIL_TO") or ()
    return sum(queue_prepared(recipient, subject, body, today()) for recipient in recipients)
