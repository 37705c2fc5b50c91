"""Audit events in the reader's language: stored with a message id and its parameters
(inside the chained details, so the chain still verifies and personal values stay
erasable), rendered in German or English with a link to their record; events written before
the message id existed rendered from their action and details; the trail exported as CSV
and XLSX with its filters, permission-checked and recorded as an export."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime

from flask_babel import force_locale
from flask_login import login_user
from openpyxl import load_workbook
from sqlalchemy import select

from clause_tracker.agreements import services as agreements
from clause_tracker.audit import messages
from clause_tracker.audit.models import AuditEvent, AuditPersonal
from clause_tracker.audit.services import erase_personal, verify_chain
from clause_tracker.counterparties import services as parties
from clause_tracker.extensions import db
from tests.factories import insert_agreement, new_counterparty, record_agreement
from tests.helpers import german


def _last(action: str) -> AuditEvent:
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == action)
                              .order_by(AuditEvent.id.desc()).limit(1))
    assert event is not None, action
    return event


def _shown(event: AuditEvent, locale: str = "de") -> messages.Rendered:
    with force_locale(locale):
        return messages.render_events([event])[event.id]


def test_new_events_carry_message_id_and_params_in_the_chain(app, make_user) -> None:
    officer = make_user("procurement_officer", "ZVS")
    record_agreement("contract", officer, reference="ZVS-2026-0815")
    running = insert_agreement(reference="ZVS-2026-0816", status="active")
    agreements.change_status(running, "ended", running.version_id, officer)
    created, status = _last("contract.create"), _last("contract.status")
    details = json.loads(created.details)
    assert details["msg"] == "contract.create"
    assert details["params"]["reference"] == "ZVS-2026-0815"
    params = json.loads(status.details)["params"]
    assert (params["from"], params["to"], params["reference"]) == ("active", "ended",
                                                                   "ZVS-2026-0816")
    assert verify_chain().ok
    with app.test_request_context():
        assert _shown(created).text == "Vertrag ZVS-2026-0815 erfasst"
        assert _shown(created, "en").text == "Contract ZVS-2026-0815 recorded"
        assert _shown(status).text == "ZVS-2026-0816: Laufend → Beendet"
        assert _shown(status).record == "Vertrag oder Zuwendung ZVS-2026-0816"


def test_grant_status_reads_as_a_grant_notice(app, make_user) -> None:
    manager = make_user("grant_manager", "ZVS")
    grant = insert_agreement("grant", reference="ZVS-Z-1", status="awarded",
                             programme="Fonds")
    agreements.change_status(grant, "revoked", grant.version_id, manager,
                             reason="Zweck verfehlt", on=date(2026, 3, 1))
    with app.test_request_context():
        assert _shown(_last("grant.status")).text.startswith("ZVS-Z-1: Bewilligt → ")


def test_personal_values_stay_out_of_the_message_and_erasable(app, make_user) -> None:
    officer = make_user("procurement_officer", "ZVS")
    party = new_counterparty(name="Muster GmbH")
    parties.add_contact(party, "Erika Mustermann", "Geschäftsführerin", "erika@example.org",
                        "contact-token-1")
    event = _last("counterparty.contact_add")
    assert "Mustermann" not in event.details and "Mustermann" not in event.summary
    with app.test_request_context():
        assert _shown(event).text == "Ansprechperson hinzugefügt"
    part = db.session.get(AuditPersonal, event.id)
    erase_personal([part.subject])
    db.session.commit()
    assert verify_chain().ok
    del officer


def _legacy(action: str, object_type: str, object_id: str | None, summary: str,
            details: dict) -> AuditEvent:
    """An event as written before the message id existed (not stored: rendering only)."""
    return AuditEvent(id=10_000 + len(summary), occurred_at=datetime(2026, 1, 2),
                      actor_name="x", actor_role="admin", action=action,
                      object_type=object_type, object_id=object_id, summary=summary,
                      details=json.dumps(details), prev_hash="0", hash="0")


def test_old_events_are_rendered_from_action_and_details(app, make_user) -> None:
    officer = make_user("procurement_officer", "ZVS")
    contract = record_agreement("contract", officer, reference="ZVS-2026-0815")
    db.session.commit()
    with app.test_request_context():
        login_user(officer)
        created = _legacy("contract.create", "Agreement", str(contract.id),
                          "Contract ZVS-2026-0815 recorded", {"reference": "ZVS-2026-0815"})
        assert _shown(created).text == "Vertrag ZVS-2026-0815 erfasst"
        status = _legacy("contract.status", "Agreement", str(contract.id),
                         "ZVS-2026-0815: draft → awarded", {"from": "draft", "to": "awarded"})
        assert _shown(status).text == "ZVS-2026-0815: Entwurf → Vergeben"
        request = _legacy("declaration.request", "Declaration", "7",
                          "ZVS-2026-0815: declaration requested from X, deadline 2026-12-08",
                          {"agreement_id": contract.id, "deadline": "2026-12-08",
                           "from": None, "to": "requested"})
        shown = _shown(request)
        assert shown.text == "ZVS-2026-0815: Erklärung angefordert, Frist 08.12.2026"
        assert shown.url == f"/agreements/{contract.id}"  # its agreement's page
        assert _shown(request, "en").text.endswith("deadline 08/12/2026")
        published = _legacy("clause.publish", "ClauseVersion", "3",
                            "Clause version published: procurement 1.0 (de)", {})
        assert _shown(published).text == ("Klauselfassung veröffentlicht: Aufträge (Liefer-, "
                                          "Dienst- und Bauleistungen), Fassung 1.0 (Deutsch)") \
            or "procurement" not in _shown(published).text
        unknown = _legacy("test.thing", "Thing", "1", "something", {})
        assert _shown(unknown).lang == "en"  # not ours: its summary, marked English


def test_auditor_filters_by_a_value_the_select_lacks_and_sees_it_as_a_chip(
        client, signed_in, make_user) -> None:
    officer = make_user("procurement_officer", "ZVS")
    record_agreement("contract", officer, reference="ZVS-2026-0815")
    db.session.commit()
    signed_in("auditor")
    german(client)
    page = client.get("/audit/?action=contract.create&object_type=Agreement").get_data(
        as_text=True)
    assert "Vertrag ZVS-2026-0815 erfasst" in page
    assert '<option selected value="contract.create">Aufträge: Vertrag … erfasst</option>' in page
    assert "Aktive Filter" in page and "Alle Filter entfernen" in page
    assert 'href="/audit/?object_type=Agreement"' in page  # removes the action filter
    assert 'href="/audit/?action=contract.create"' in page  # removes the record type
    assert "ClauseVersion" not in page.split("<main")[1]


def test_export_csv_and_xlsx_with_filters_in_the_readers_language(
        client, signed_in, make_user) -> None:
    officer = make_user("procurement_officer", "ZVS")
    record_agreement("contract", officer, reference="ZVS-2026-0815")
    record_agreement("contract", officer, reference="=HYPERLINK(1)")
    db.session.commit()
    signed_in("auditor")
    german(client)
    response = client.get("/audit/events.csv?action=contract")
    assert response.status_code == 200
    assert 'filename="protokoll-' in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")),
                           delimiter=";"))
    assert rows[0][:3] == ["Nr.", "Zeitpunkt", "Person"]
    texts = [row[6] for row in rows[1:]]
    assert texts == ["Vertrag ZVS-2026-0815 erfasst", "Vertrag =HYPERLINK(1) erfasst"]
    assert all(row[3:5] == ["System", "Aufträge"] for row in rows[1:])
    exported = _last("audit.export")
    assert json.loads(exported.details)["count"] == 2
    assert json.loads(exported.details)["filters"] == {"action": "contract"}

    response = client.get("/audit/events.xlsx?action=contract")
    sheet = load_workbook(io.BytesIO(response.data)).worksheets[0]
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][6] == "Eintrag" and len(values) == 3
    assert values[1][6] == "Vertrag ZVS-2026-0815 erfasst"
    assert isinstance(values[1][1], datetime)
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:H3"
    # Text stays text: never a formula.
    assert sheet.cell(3, 7).data_type == "s"
    assert client.get("/audit/events.pdf").status_code == 404


def test_export_needs_the_audit_permission(client, signed_in) -> None:
    signed_in("procurement_officer", "ZVS")
    assert client.get("/audit/events.csv").status_code == 403
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "audit.export")) \
        is None
