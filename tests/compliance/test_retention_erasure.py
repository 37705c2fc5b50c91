"""Retention erasure erases (security finding 5): every personal value entered for an
agreement — through its services — is gone from a dump of the whole database and from every
file in the upload folder after `retention purge`, and `audit verify` still passes."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import select, text
from werkzeug.datastructures import FileStorage

from clause_tracker.agreements import documents as agreement_documents
from clause_tracker.agreements import services as agreements
from clause_tracker.agreements import signed_copy
from clause_tracker.audit.models import AuditEvent, AuditPersonal
from clause_tracker.audit.services import erase_personal, record, verify_chain
from clause_tracker.checks import services as checks
from clause_tracker.counterparties import services as counterparties
from clause_tracker.declarations import evidence
from clause_tracker.declarations import services as declarations
from clause_tracker.extensions import db
from clause_tracker.idempotency import new_token
from clause_tracker.storage import DatabaseStorage, storage
from tests.factories import insert_agreement
from tests.helpers import replace_in_docx
from tests.test_audit import scratch_url  # noqa: F401  # a fixture: a database of its own

# What was entered, as distinctive (ASCII) pieces: none may be left anywhere.
PERSONAL = {
    "contact_name": "Konstanze Kontaktperson",
    "contact_function": "Prokuristin Kontaktfunktion",
    "contact_email": "konstanze.kontakt@example.org",
    "signer_1": "Siegfried Erstunterzeichner",
    "signer_1_function": "Geschaeftsfuehrer Erstfunktion",
    "evidence_1_file": "Erklaerung_Erstdatei.pdf",
    "evidence_1_text": "Unterschrift Erstbeleginhalt",
    "request_again_note": "Rueckfrage bei Herrn Notizmann",
    "signer_2": "Sabine Zweitunterzeichnerin",
    "evidence_2_file": "Erklaerung_Zweitdatei.pdf",
    "evidence_2_text": "Unterschrift Zweitbeleginhalt",
    "accept_note": "Geprueft von Frau Annahmenotiz",
    "complaint": "ADS-2019-0917",
    "outcome_note": "Notiz zu Herrn Ergebnismann",
    "findings": "Befund ueber Frau Befundine",
    "hearing_summary": "Anhoerung mit Herrn Anhoermann",
    "statement": "Stellungnahme von Frau Stellungnehma",
    "decision_note": "Entscheidung wegen Zeugin Entscheida",
    "measure_description": "Schulung durch Herrn Massnahmus",
    "measure_note": "Genehmigt nach Ruecksprache mit Genehmigunde",
    "completion_note": "Erledigt durch Frau Erledigerin",
    "exemption_note": "Ausnahme laut Herrn Ausnahmerich",
    "copy_file": "Ruecklauf_Signaturia.docx",
    "copy_text": "gez. Jolanda Signaturia",
    "manual_reason": "Original bei Herrn Manuellus gesehen",
    "end_reason": "Insolvenz, Herr Kuendigungsmann",
}
SHARED_CONTACT = "Bernd Bleibtperson"  # of a counterparty a running agreement still needs


def _database_dump() -> str:
    """Every row of every table, as text: SQLite's iterdump, PostgreSQL's pg_dump."""
    engine = db.engine
    if engine.dialect.name == "sqlite":
        raw = engine.raw_connection()
        try:
            return "\n".join(raw.driver_connection.iterdump())  # type: ignore[union-attr]
        finally:
            raw.close()
    pg_dump = shutil.which("pg_dump") or "/usr/bin/pg_dump"
    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    return subprocess.run([pg_dump, "--data-only", "--inserts", url], check=True,
                          capture_output=True, text=True).stdout


def _upload_texts(folder: Path) -> list[tuple[str, str]]:
    """Every stored file — in the upload folder and in the database's file storage (the
    default on PostgreSQL) — read as text; a DOCX (zip) also part by part."""
    files = [(str(path), path.read_bytes())
             for path in sorted(p for p in folder.rglob("*") if p.is_file())]
    database = DatabaseStorage()
    files += [(f"stored_files:{key}", database.get(key)) for key in list(database.keys())]
    found = []
    for where, data in files:
        found.append((where, data.decode("latin-1")))
        if zipfile.is_zipfile(io.BytesIO(data)):
            with zipfile.ZipFile(io.BytesIO(data)) as package:
                for name in package.namelist():
                    found.append((f"{where}!{name}",
                                  package.read(name).decode("utf-8", "replace")))
    return found


def _left_over(haystack: str) -> list[str]:
    lowered = haystack.lower()
    return [key for key, value in PERSONAL.items() if value.lower() in lowered]


def _enter_everything(app, make_user):
    """An agreement with every kind of personal data, through the services."""
    app.config["EXEMPTION_REASONS"] = ("Dringlichkeit",)
    officer, admin = make_user("procurement_officer", "ZVS"), make_user("admin")
    old = insert_agreement(status="active", decided_on=date(2018, 1, 5),
                           start_date=date(2018, 2, 1), end_date=date(2019, 12, 31),
                           contract_kind="services", vat_rate=19)
    party = old.counterparty
    contact = counterparties.add_contact(party, PERSONAL["contact_name"],
                                         PERSONAL["contact_function"],
                                         PERSONAL["contact_email"], new_token())
    # A counterparty shared with a running agreement keeps its contact person.
    shared = insert_agreement(status="active", decided_on=date(2018, 1, 5),
                              end_date=date(2019, 12, 31))
    insert_agreement(status="active", counterparty_id=shared.counterparty_id)
    kept = counterparties.add_contact(shared.counterparty, SHARED_CONTACT, "", "", new_token())

    agreements.request_exemption(old, "Dringlichkeit", PERSONAL["exemption_note"],
                                 old.version_id, officer)
    decl = declarations.request(old, "main", "", date(2018, 1, 6), 10, officer, new_token())
    first = evidence.accept(f"%PDF-1.7 {PERSONAL['evidence_1_text']}".encode(),
                            PERSONAL["evidence_1_file"])
    declarations.receive(decl, signer_name=PERSONAL["signer_1"],
                         signer_function=PERSONAL["signer_1_function"],
                         signed_on=date(2018, 1, 8), received_on=date(2018, 1, 9),
                         channel="email", valid_until=None, evidence=first,
                         expected_version=decl.version_id, user=officer)
    declarations.transition(decl, "reject", PERSONAL["request_again_note"], decl.version_id,
                            officer)
    declarations.transition(decl, "request", "", decl.version_id, officer, date(2018, 1, 10))
    second = evidence.accept(f"%PDF-1.7 {PERSONAL['evidence_2_text']}".encode(),
                             PERSONAL["evidence_2_file"])
    declarations.receive(decl, signer_name=PERSONAL["signer_2"],
                         signer_function=PERSONAL["signer_1_function"],
                         signed_on=date(2018, 1, 12), received_on=date(2018, 1, 12),
                         channel="email", valid_until=None, evidence=second,
                         expected_version=decl.version_id, user=officer)
    declarations.transition(decl, "accept", PERSONAL["accept_note"], decl.version_id, officer)

    day = date(2019, 3, 1)
    check = checks.record_complaint(old, PERSONAL["complaint"], day, officer, day)
    checks.record_outcome(check, "findings", PERSONAL["outcome_note"], PERSONAL["findings"],
                          officer, None, day)
    checks.record_hearing(check, day, PERSONAL["hearing_summary"], officer, day,
                          PERSONAL["statement"])
    checks.decide_breach(check, "breach_confirmed", PERSONAL["decision_note"], officer, None,
                         day)
    plan = checks.propose_measure(check, checks.MeasureInput(
        "action_plan", PERSONAL["measure_description"], deadline=day + timedelta(days=30)),
        officer, day)
    checks.decide_measure(plan, True, PERSONAL["measure_note"], admin, plan.version_id)
    checks.record_plan_completion(plan, True, day + timedelta(days=10),
                                  PERSONAL["completion_note"], officer, plan.version_id,
                                  day + timedelta(days=10))

    issued = agreement_documents.generate(old, "de", party.address, officer)
    returned = replace_in_docx(storage().get(issued.output_sha256), party.address,
                               PERSONAL["copy_text"])
    agreement_documents.check(old, FileStorage(io.BytesIO(returned),
                                               filename=PERSONAL["copy_file"]), officer)
    signed_copy.propose_manual_check(old, PERSONAL["manual_reason"], officer)
    db.session.refresh(old)
    agreements.change_status(old, "terminated", old.version_id, officer,
                             PERSONAL["end_reason"], date(2019, 6, 1))
    return old, contact, kept, {first.key, second.key}


def test_a_purge_leaves_no_personal_value_in_the_database_or_the_uploads(
        app, runner, client, signed_in, make_user, published_clauses) -> None:
    old, contact, kept, evidence_keys = _enter_everything(app, make_user)
    uploads = Path(app.config["UPLOAD_FOLDER"])
    # Before: every value is somewhere (the test would prove nothing otherwise).
    before = _database_dump() + "".join(body for _, body in _upload_texts(uploads))
    assert set(_left_over(before)) == set(PERSONAL)
    assert all(storage().exists(key) for key in evidence_keys)

    with time_machine.travel(datetime(2031, 1, 15, 9, 0), tick=True):
        listed = runner.invoke(args=["retention", "list"])
        assert str(old.id) in listed.output
        purged = runner.invoke(args=["retention", "purge", str(old.id), "--yes"])
        assert purged.exit_code == 0, purged.output
    db.session.expire_all()

    dump = _database_dump()
    assert _left_over(dump) == [], "personal data left in the database"
    for path, body in _upload_texts(uploads):
        assert _left_over(body) == [], f"personal data left in {path}"
    assert not any(storage().exists(key) for key in evidence_keys)  # the earlier one too
    # The shared counterparty's contact person is still needed, and stays.
    assert SHARED_CONTACT in dump
    assert (db.session.get(type(contact), contact.id).name,
            db.session.get(type(kept), kept.id).name) == ("[erased]", SHARED_CONTACT)
    verified = runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0 and "chain intact" in verified.output, verified.output

    # What remains: the record, its figures, the hashes, and that an erasure happened.
    assert db.session.get(type(old), old.id).status == "terminated"
    purge = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "retention.purge"))
    counts = json.loads(purge.details)["counts"]
    assert counts["audit_events"] >= 10 and counts["contact_persons"] == 1
    assert all(key in dump for key in evidence_keys)  # the SHA-256 stays as proof
    erased = db.session.scalars(select(AuditPersonal).where(
        AuditPersonal.subject == f"Agreement:{old.id}")).all()
    assert erased and all(p.content is None and p.salt is None and p.erased_by == "retention"
                          for p in erased)
    signed_in("auditor")
    page = client.get(f"/agreements/{old.id}").get_data(as_text=True)
    assert "audit-erased" in page and _left_over(page) == []
    trail = client.get("/audit/").get_data(as_text=True)
    assert "audit-erased" in trail and _left_over(trail) == []
    assert SHARED_CONTACT in client.get("/audit/").get_data(as_text=True)


def test_the_personal_part_is_tamper_evident_and_cannot_be_rewritten(app) -> None:
    """A personal part not yet erased must still fit its chained digest; the database
    refuses to change it other than by erasure, and to delete it."""
    from sqlalchemy.exc import DBAPIError

    record("counterparty.contact_add", "Counterparty", 1, "Contact person added",
           {"contact_id": 7}, personal={"name": "Erika Muster"}, subject="ContactPerson:7")
    db.session.commit()
    event = db.session.scalar(select(AuditEvent))
    assert "Erika" not in event.summary + event.details and verify_chain().ok
    db.session.rollback()  # no read lock of this session in TRUNCATE's way
    refused = ["UPDATE audit_personal SET content = '{\"name\":\"Eve\"}'",
               "DELETE FROM audit_personal"]
    if db.engine.dialect.name == "postgresql":
        refused.append("TRUNCATE audit_personal")
    for statement in refused:
        with pytest.raises(DBAPIError, match="can only be erased"), db.engine.begin() as conn:
            conn.execute(text(statement))
    with db.engine.begin() as conn:  # behind the triggers' back
        if db.engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_personal DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER audit_personal_erase_only"))
        conn.execute(text("UPDATE audit_personal SET content = '{\"name\":\"Eve\"}'"))
        if db.engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_personal ENABLE TRIGGER USER"))
    problem = verify_chain().problem
    assert problem is not None and (problem.event_id, problem.kind) == (event.id, "edited")
    # An erasure the trail does not record shows too: the triggers let it through, the
    # check does not.
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_personal SET content = NULL, salt = NULL"))
    problem = verify_chain().problem
    assert problem is not None and "erased unrecorded" in problem.message
    erase_personal(["ContactPerson:7"])  # recorded: an audit.erased event names it
    db.session.commit()
    assert verify_chain().ok


def test_events_written_before_the_split_are_redacted_to_their_pinned_form(
        app_config, request) -> None:
    """Events written before migration 0019 hold personal data in their chained content.
    The migration pins the one redacted form each may take (and commits to the pins in the
    chain); erasure applies exactly that form, `audit verify` passes, and no other change
    of such an event — nor of a pin — goes unseen. Downgrade and upgrade again work."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy.exc import DBAPIError

    from clause_tracker import create_app
    from clause_tracker.audit.models import AuditRedaction
    from clause_tracker.audit.services import (
        GENESIS,
        TIMESTAMP_FORMAT,
        content_hash,
        erase_personal,
    )

    legacy = [  # (action, object_type, object_id, summary, details), as the old code wrote them
        ("contact.status", "Agreement", "5", "V-1: active → terminated", {"from": "active"}),
        ("contract.status", "Agreement", "5", "V-1: active → terminated",
         {"from": "active", "reason": "Insolvenz, Herr Altkuendigung"}),
        ("declaration.receive", "Declaration", "9",
         "V-1: declaration received, signed by Alfred Altunterzeichner",
         {"agreement_id": 5, "evidence_file": "Altbeleg_Altunterzeichner.pdf",
          "evidence_sha256": "ab" * 32}),
        ("counterparty.contact_add", "Counterparty", "2",
         "Contact person added to Muster GmbH: Almut Altkontakt",
         {"contact_id": 3, "name": "Almut Altkontakt", "function": "", "email":
          "almut@alt.example"}),
        ("compliance.outcome", "ComplianceCheck", "4", "V-2: check done: findings",
         {"agreement_id": 6, "note": "", "findings": "Befund Andere Akte"}),  # another agreement
    ]
    scratch = request.getfixturevalue("scratch_url")  # test_audit's: a database of its own
    old_values = ("Altkuendigung", "Altunterzeichner", "Almut", "almut@alt.example")
    old = create_app(app_config | {"SQLALCHEMY_DATABASE_URI": scratch})
    with old.app_context():
        upgrade(revision="0018_import_jobs")
        prev, at = GENESIS, datetime(2026, 1, 5, 8, 30)
        with db.engine.begin() as conn:
            for ident, (action, kind, obj, summary, details) in enumerate(legacy, start=1):
                body = json.dumps(details, ensure_ascii=False, sort_keys=True)
                row = {"id": ident, "occurred_at": at, "actor_id": None, "actor_name": "old",
                       "actor_role": "system", "action": action, "object_type": kind,
                       "object_id": obj, "summary": summary, "details": body,
                       "prev_hash": prev, "changes_records": True}
                row["hash"] = prev = content_hash(
                    [ident, at.strftime(TIMESTAMP_FORMAT), None, "old", "system", action, kind,
                     obj, summary, body, row["prev_hash"], True])
                conn.execute(AuditEvent.__table__.insert().values(**row))
        db.engine.dispose()

    app = create_app(app_config | {"SQLALCHEMY_DATABASE_URI": scratch})
    with app.app_context():
        upgrade()
        pins = {p.event_id: p for p in db.session.scalars(select(AuditRedaction))}
        assert sorted(pins) == [2, 3, 4, 5]  # event 1 holds nothing personal
        assert pins[3].subject == "Agreement:5" and pins[4].subject == "ContactPerson:3"
        assert verify_chain().ok and verify_chain().checked == 6  # with the pinning event
        with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
            conn.execute(text("UPDATE audit_events SET summary = 'x' WHERE id = 3"))

        assert erase_personal(["Agreement:5", "ContactPerson:3"]) == 3
        record("retention.purge", "Agreement", 5, "V-1: personal data erased")
        db.session.commit()
        rows = db.session.execute(select(AuditEvent.summary, AuditEvent.details)).all()
        flat = " ".join(f"{s} {d}" for s, d in rows)
        assert not [v for v in old_values if v in flat]
        assert "Befund Andere Akte" in flat  # another agreement's event is untouched
        assert "signed by [erased]" in flat and "ab" * 32 in flat
        result = verify_chain()
        assert result.ok and result.checked == 8, result.problem  # + audit.erased

        # Only the pinned form verifies: anything else is named.
        with db.engine.begin() as conn:
            if db.engine.dialect.name == "postgresql":
                conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
            else:
                conn.execute(text("DROP TRIGGER audit_events_no_update"))
            conn.execute(text("UPDATE audit_events SET summary = 'V-1: nothing' WHERE id = 3"))
        assert (verify_chain().problem.event_id, verify_chain().problem.kind) == (3, "edited")
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE audit_events SET summary = :s WHERE id = 3"),
                         {"s": pins[3].summary})
            if db.engine.dialect.name == "postgresql":
                conn.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))
        assert verify_chain().ok
        # A pin added behind the trail's back does not match the chained commitment.
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO audit_redactions (event_id, subject, summary, "
                              "details, sha256) VALUES (1, 'Agreement:5', 'x', '{}', :h)"),
                         {"h": "0" * 64})
        assert verify_chain().problem.kind == "edited"
        db.session.remove()
        downgrade(revision="0018_import_jobs")
        upgrade()
        db.session.remove()
        db.engine.dispose()
