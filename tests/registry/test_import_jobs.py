"""Large imports as jobs of the scheduler process (security finding 6): queued with the file,
claimed in the database, progress on the page, all rows or none, audited."""

from __future__ import annotations

import io
import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from clause_tracker.agreements import import_jobs
from clause_tracker.agreements.models import Agreement, ImportJob
from clause_tracker.audit.models import AuditEvent
from clause_tracker.audit.services import verify_chain
from clause_tracker.auth.models import User
from clause_tracker.clock import utcnow
from clause_tracker.counterparties import services as counterparties
from clause_tracker.extensions import db
from tests.helpers import german, hidden_fields

HEADER = "Vergabenummer;Gegenstand;Art;Auftragswert;Auftragnehmer\n"


def _csv(count: int, start: int = 1, prefix: str = "KIJ-2026-") -> bytes:
    rows = "".join(f"{prefix}{n:05d};Leistung {n};services;{n},50;Firma {n % 7}\n"
                   for n in range(start, start + count))
    return (HEADER + rows).encode()


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Agreement))


def _upload(client, data: bytes, dry_run: bool = False):
    fields = hidden_fields(client, "/agreements/import")
    form = {"csrf_token": fields["csrf_token"], "kind": "contract",
            "file": (io.BytesIO(data), "vergaben.csv")}
    if dry_run:
        form["dry_run"] = "y"
    return client.post("/agreements/import", data=form, content_type="multipart/form-data")


@pytest.fixture
def officer_client(app, client, signed_in):
    app.config["IMPORT_BACKGROUND_BYTES"] = 2048
    signed_in("procurement_officer", unit="KIJ")
    german(client)
    return client


def test_a_large_file_is_queued_then_imported_by_the_job(app, officer_client) -> None:
    data = _csv(2500)
    response = _upload(officer_client, data)
    assert response.status_code == 303
    page_url = response.headers["Location"]
    job = db.session.scalar(select(ImportJob))
    assert (job.status, job.data, _count()) == ("queued", data, 0)
    page = officer_client.get(page_url).get_data(as_text=True)
    assert "<progress" in page and 'max="2500"' in page and "Warte auf den Start" in page
    assert officer_client.get(f"{page_url}/status").json == {
        "status": "queued", "finished": False, "rows_checked": 0, "rows_expected": 2500,
        "text": "Warte auf den Start …"}

    assert import_jobs.run_pending("test-node") == 1
    db.session.expire_all()
    job = db.session.get(ImportJob, job.id)
    assert (job.status, job.created, job.rows, job.data) == ("done", 2500, 2500, None)
    assert _count() == 2500
    assert db.session.scalar(select(func.count()).select_from(Agreement).where(
        Agreement.import_id == job.id, Agreement.org_unit.has(code="KIJ"))) == 2500
    # 3 events for the agreements (1000 each), 1 for the 7 new firms, 1 for the file.
    actions = [e.action for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.object_type == "Import").order_by(AuditEvent.id))]
    assert actions == ["import.queue", "counterparty.import", "contract.import",
                       "contract.import", "contract.import", "contract.import_file"]
    assert verify_chain().ok
    page = officer_client.get(page_url).get_data(as_text=True)
    assert "Importiert: 2500 neue Vorgänge" in page and "<progress" not in page
    assert officer_client.get(f"{page_url}/status").json["finished"] is True
    assert import_jobs.run_pending("test-node") == 0  # nothing left


def test_a_job_with_an_error_imports_nothing_and_reports_the_line(app, officer_client) -> None:
    data = _csv(1500) + b"KIJ-X;Leistung;unknown kind;1,00;Firma\n"
    _upload(officer_client, data)
    import_jobs.run_pending("test-node")
    job = db.session.scalar(select(ImportJob))
    assert job.status == "done" and _count() == 0
    page = officer_client.get(f"/agreements/imports/{job.id}").get_data(as_text=True)
    assert "1 Fehler: Es wurde nichts importiert." in page and "<td>1502</td>" in page
    assert db.session.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc())) == \
        "import.checked"


def test_a_reference_registered_meanwhile_fails_the_job_whole(app, officer_client, counterparty,
                                                              monkeypatch) -> None:
    data = _csv(1200)
    _upload(officer_client, data)
    job = db.session.scalar(select(ImportJob))
    real = import_jobs.import_file

    def racing(*args, **kwargs):
        # Between checking and saving, another officer registers one of the references.
        progress = kwargs["progress"]

        def and_meanwhile(rows: int, stage: str) -> None:
            progress(rows, stage)
            if stage == "saving":
                db.session.execute(Agreement.__table__.insert().values(
                    kind="contract", reference="KIJ-2026-00600", subject="x", status="draft",
                    org_unit_id=job.org_unit_id, created_at=utcnow(), updated_at=utcnow(),
                    version_id=1))
                db.session.commit()

        kwargs["progress"] = and_meanwhile
        return real(*args, **kwargs)

    monkeypatch.setattr(import_jobs, "import_file", racing)
    import_jobs.run_pending("test-node")
    db.session.expire_all()
    job = db.session.get(ImportJob, job.id)
    assert job.status == "failed" and "registered by someone else" in job.message
    assert _count() == 1  # only the one registered meanwhile


def test_a_job_whose_process_died_is_taken_up_again(app, officer_client) -> None:
    _upload(officer_client, _csv(1000))
    job = db.session.scalar(select(ImportJob))
    claimed = import_jobs.claim("node-1")
    assert claimed is not None and import_jobs.claim("node-2") is None
    # node-1 dies: no sign of life for longer than IMPORT_STALE_MINUTES.
    db.session.execute(update(ImportJob).values(heartbeat_at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    assert import_jobs.run_pending("node-2") == 1
    db.session.expire_all()
    job = db.session.get(ImportJob, job.id)
    assert (job.status, job.claimed_by, _count()) == ("done", "node-2", 1000)


def test_a_dry_run_in_the_background_saves_nothing(app, officer_client) -> None:
    _upload(officer_client, _csv(1000), dry_run=True)
    import_jobs.run_pending("test-node")
    job = db.session.scalar(select(ImportJob))
    assert job.status == "done" and _count() == 0
    assert json.loads(job.report)["created_total"] == 1000


def test_only_the_uploader_sees_the_job(app, officer_client, make_user, login) -> None:
    _upload(officer_client, _csv(1000))
    job = db.session.scalar(select(ImportJob))
    other = app.test_client()
    assert login(other, make_user("procurement_officer", "ZVS").username).status_code == 302
    assert other.get(f"/agreements/imports/{job.id}").status_code == 404
    assert other.get(f"/agreements/imports/{job.id}/status").status_code == 404
    assert officer_client.get(f"/agreements/imports/{job.id}").status_code == 200


def test_a_small_file_is_imported_at_once(app, officer_client) -> None:
    response = _upload(officer_client, _csv(3))
    assert response.status_code == 200 and "Importiert: 3 neue Vorgänge" in \
        response.get_data(as_text=True)
    assert db.session.scalar(select(ImportJob.status)) == "done"


def test_other_writes_go_on_while_a_job_checks(app, officer_client, monkeypatch) -> None:
    """The chain lock is not held while rows are checked: another change commits then."""
    _upload(officer_client, _csv(4000))
    job = import_jobs.claim("test-node")
    committed = threading.Event()
    real = import_jobs.import_file

    def slow(*args, **kwargs):
        progress = kwargs["progress"]

        def and_write(rows: int, stage: str) -> None:
            progress(rows, stage)
            if stage == "checking" and not committed.is_set():
                def edit() -> None:
                    with app.app_context():
                        counterparties.create({"name": "Neu GmbH"})
                        db.session.commit()
                        committed.set()
                thread = threading.Thread(target=edit)
                thread.start()
                thread.join(30)

        kwargs["progress"] = and_write
        return real(*args, **kwargs)

    monkeypatch.setattr(import_jobs, "import_file", slow)
    import_jobs.run(job)
    assert committed.is_set() and _count() == 4000
    assert verify_chain().ok


def test_a_job_reports_in_the_words_and_language_of_its_uploader(app, officer_client) -> None:
    # The scheduler process has no request: the report takes the uploader's language
    # (German by default), and keeps its warnings beside the errors.
    data = _csv(1500) + b"KIJ-X;Leistung;Raumfahrt;1,00;Firma\n"
    _upload(officer_client, data)
    import_jobs.run_pending("test-node")
    job = db.session.scalar(select(ImportJob))
    page = officer_client.get(f"/agreements/imports/{job.id}").get_data(as_text=True)
    assert ("<td>1502</td><td>Auftragsart</td><td>„Raumfahrt“ ist keiner der Werte dieser "
            "Spalte: Lieferleistungen, Dienstleistungen, Bauleistungen, Konzession</td>") in page

    db.session.get(User, job.user_id).locale = "en"
    db.session.commit()
    warned = _csv(1500, prefix="KIJ-W-") + b"KIJ-W-0;Leistung;services;0,00;Firma\n"
    response = _upload(officer_client, warned, dry_run=True)
    import_jobs.run_pending("test-node")
    stored = json.loads(db.session.get(ImportJob, int(response.headers["Location"].rsplit(
        "/", 1)[1])).report)
    assert stored["errors"] == []
    assert stored["warnings"] == [[1502, "Awarded value in EUR",
                                   "0,00 €; please check whether the amount is missing"]]
