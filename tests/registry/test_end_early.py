"""Terminating a contract or revoking a grant is a step of its own: confirmed, with a reason
and the day it takes effect; it ends the monitoring and keeps the history."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from clause_tracker.agreements import services as agreements
from clause_tracker.agreements.services import RegistryError
from clause_tracker.audit.models import AuditEvent, AuditPersonal
from clause_tracker.checks import sweep
from clause_tracker.checks.models import ComplianceCheck
from clause_tracker.extensions import db
from tests.helpers import hidden_fields


def test_the_service_wants_a_reason_and_a_day(app, agreement, make_user) -> None:
    contract = agreement()
    officer = make_user("procurement_officer", "ZVS")
    for reason, on in (("", date(2026, 5, 1)), ("Insolvenz", None),
                       ("Insolvenz", contract.decided_on - timedelta(days=1))):
        with pytest.raises(RegistryError):
            agreements.change_status(contract, "terminated", contract.version_id, officer,
                                     reason=reason, on=on)
    db.session.rollback()
    assert db.session.get(type(contract), contract.id).status == "active"


def test_terminating_over_http(client, signed_in, agreement) -> None:
    officer = signed_in("procurement_officer", "ZVS")
    contract = agreement(start_date=date(2020, 1, 1))
    page = client.get(f"/agreements/{contract.id}").get_data(as_text=True)
    assert f"/agreements/{contract.id}/end/terminated" in page  # a link, not a one-click form
    # The one-click status form of old is refused with a message, never a 500.
    fields = hidden_fields(client, f"/agreements/{contract.id}")
    old = client.post(f"/agreements/{contract.id}/status", data={
        "csrf_token": fields["csrf_token"], "version": contract.version_id,
        "status": "terminated"}, follow_redirects=True)
    assert old.status_code == 200 and "Grund" in old.get_data(as_text=True)
    path = f"/agreements/{contract.id}/end/terminated"
    fields = hidden_fields(client, path)
    unconfirmed = client.post(path, data={"csrf_token": fields["csrf_token"],
                                          "version": fields["version"],
                                          "ended_on": "01.05.2026", "reason": "Insolvenz"})
    assert unconfirmed.status_code == 400
    assert "Insolvenz" in unconfirmed.get_data(as_text=True)  # what was typed stays
    db.session.expire_all()
    assert db.session.get(type(contract), contract.id).status == "active"
    done = client.post(path, data={"csrf_token": fields["csrf_token"],
                                   "version": fields["version"], "ended_on": "01.05.2026",
                                   "reason": "Insolvenz des Auftragnehmers", "confirm": "y"})
    assert done.status_code == 302
    db.session.expire_all()
    ended = db.session.get(type(contract), contract.id)
    assert (ended.status, ended.ended_on, ended.end_reason) == (
        "terminated", date(2026, 5, 1), "Insolvenz des Auftragnehmers")
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "contract.status")).all()[-1]
    details = json.loads(event.details)
    # The reason may name people: kept apart from the chained content, erasable (finding 5).
    assert "reason" not in details and "Insolvenz" not in event.summary
    assert officer.id == event.actor_id
    part = db.session.get(AuditPersonal, event.id)
    assert json.loads(part.content)["reason"] == "Insolvenz des Auftragnehmers"
    page = client.get(f"/agreements/{contract.id}").get_data(as_text=True)
    assert "Insolvenz des Auftragnehmers" in page and "→ Gekündigt" in page
    # Monitoring ended: the sweep schedules no routine check for it.
    sweep.run()
    assert db.session.scalar(select(ComplianceCheck).where(
        ComplianceCheck.agreement_id == contract.id)) is None
    assert client.get(path).status_code == 404  # nothing left to end
