"""Stored files every node can read: two app instances with upload folders of their own on
one database (the `postgres` backend; it runs on the test database of either suite), the
transaction the files are written and erased in, and `storage migrate` between backends."""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import docx
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from clause_tracker import create_app
from clause_tracker.audit.models import AuditEvent
from clause_tracker.declarations.models import Declaration
from clause_tracker.documents.web.models import DocumentRecord
from clause_tracker.extensions import db
from clause_tracker.retention import services as retention
from clause_tracker.storage import DatabaseStorage, LocalStorage, storage
from clause_tracker.storage.models import CHUNK_BYTES, StoredFile, StoredFileChunk
from clause_tracker.transaction import unit_of_work
from clause_tracker.versioning import RefusedChange
from tests.conftest import IsolatedClient, _login
from tests.factories import add_declaration
from tests.helpers import PASSWORD, german, hidden_fields

PDF = b"%PDF-1.7\n% Eigenerklaerung Erika Muster\n" + bytes(range(256)) * 40


@pytest.fixture
def app_config(app_config: dict[str, object]) -> dict[str, object]:
    app_config["STORAGE_BACKEND"] = "postgres"
    return app_config


@pytest.fixture
def node2(app_config: dict[str, object], tmp_path: Path) -> Iterator[Flask]:
    """A second node: the same database and settings, an empty upload folder of its own."""
    other = create_app({**app_config, "UPLOAD_FOLDER": str(tmp_path / "node2-uploads")})
    other.test_client_class = IsolatedClient
    yield other


def _files_on_disk(*folders: object) -> list[Path]:
    return [p for folder in folders for p in Path(str(folder)).rglob("*") if p.is_file()]


def _chunks() -> int:
    return db.session.scalar(select(func.count()).select_from(StoredFileChunk)) or 0


def _on(node: Flask, username: str) -> FlaskClient:
    client = node.test_client()
    assert _login(client, username, PASSWORD).status_code == 302
    german(client)
    return client


def _contract() -> bytes:
    document = docx.Document()
    document.add_heading("Dienstleistungsvertrag", level=1)
    document.add_paragraph("Es gilt: {{ antirassismusklausel }} (Anlage)")
    document.add_paragraph("Unterschriften")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_evidence_uploaded_on_one_node_downloads_on_the_other(app, client, node2, make_user,
                                                              agreement) -> None:
    officer = make_user("procurement_officer", "ZVS")
    one, two = _on(app, officer.username), _on(node2, officer.username)
    decl = add_declaration(agreement(status="draft"), state="requested")
    fields = hidden_fields(one, f"/declarations/{decl.id}/receive")
    received = one.post(f"/declarations/{decl.id}/receive", data={
        **fields, "signer_name": "Erika Muster", "signer_function": "Geschäftsführerin",
        "signed_on": "06.03.2026", "received_on": "09.03.2026", "channel": "post",
        "valid_until": "", "evidence": (io.BytesIO(PDF), "erklaerung.pdf")},
        content_type="multipart/form-data")
    assert received.status_code == 302
    download = two.get(f"/declarations/{decl.id}/evidence")
    assert download.status_code == 200 and download.data == PDF
    assert download.content_length == len(PDF)
    assert download.headers["Cache-Control"] == "no-store"
    # Nothing was written to either machine's folder: the file is in the database.
    assert _files_on_disk(app.config["UPLOAD_FOLDER"], node2.config["UPLOAD_FOLDER"]) == []
    assert db.session.get(StoredFile, hashlib.sha256(PDF).hexdigest()).size == len(PDF)


def test_a_documents_desk_upload_continues_on_the_other_node(app, node2, make_user,
                                                             published_clauses, csrf) -> None:
    officer = make_user("procurement_officer", "ZVS")
    one, two = _on(app, officer.username), _on(node2, officer.username)
    preview = one.post("/documents/insert", data={
        "csrf_token": csrf(one, "/documents/"), "document": (io.BytesIO(_contract()),
                                                             "vertrag.docx"),
        "variant": "procurement", "language": "de"}, content_type="multipart/form-data")
    assert preview.status_code == 200
    fields = dict(re.findall(r'name="(upload|filename|variant|language)"[^>]*value="([^"]*)"',
                             preview.get_data(as_text=True)))
    fields["csrf_token"] = csrf(two, "/documents/")
    done = two.post("/documents/insert/confirm", data=fields)
    assert done.status_code == 302, done.get_data(as_text=True)[:1000]
    record_id = int(done.headers["Location"].rstrip("/").split("/")[-1])
    issued = one.get(f"/documents/{record_id}/download")
    assert issued.status_code == 200 and issued.data.startswith(b"PK")
    assert two.get(f"/documents/{record_id}/download").data == issued.data


def test_a_generated_documents_page_on_the_other_node_offers_it(app, node2, make_user,
                                                                published_clauses, csrf) -> None:
    officer = make_user("procurement_officer", "ZVS")
    one, two = _on(app, officer.username), _on(node2, officer.username)
    made = one.post("/documents/generate", data={
        "csrf_token": csrf(one, "/documents/generate"), "template": "services",
        "language": "de", "reference": "V-2026-017", "subject": "Reinigung",
        "authority": "Stadt Jena", "authority_address": "Am Anger 15, 07743 Jena",
        "counterparty": "Muster GmbH", "counterparty_address": "Hauptstr. 1, 07743 Jena",
        "value": "12.345,60", "start_date": "01.02.2026", "end_date": "31.01.2027",
        "signature_date": "15.01.2026", "vat_rate": "19"})
    assert made.status_code == 302
    record_id = int(made.headers["Location"].rstrip("/").split("/")[-1])
    page = two.get(f"/documents/{record_id}").get_data(as_text=True)
    assert f"/documents/{record_id}/download" in page
    assert "gelöscht" not in page

    # Gone from the storage without an erasure in the audit trail: "missing", not "erased".
    key = db.session.get(DocumentRecord, record_id).output_sha256
    with unit_of_work():
        DatabaseStorage().delete(key)
    page = two.get(f"/documents/{record_id}").get_data(as_text=True)
    assert "Die Datei fehlt im Dateispeicher, obwohl sie nie gelöscht wurde" in page
    assert "nach Ablauf der Aufbewahrungsfrist gelöscht" not in page
    assert two.get(f"/documents/{record_id}/download").status_code == 404


def test_a_rolled_back_request_leaves_no_stored_chunk(app, client, signed_in, agreement) -> None:
    signed_in("procurement_officer")
    decl = add_declaration(agreement(status="draft"), state="requested")
    fields = hidden_fields(client, f"/declarations/{decl.id}/receive")
    fields["version"] = str(int(fields.get("version") or 0) + 5)  # another save came first
    refused = client.post(f"/declarations/{decl.id}/receive", data={
        **fields, "signer_name": "Erika Muster", "signer_function": "Geschäftsführerin",
        "signed_on": "06.03.2026", "received_on": "09.03.2026", "channel": "post",
        "valid_until": "", "evidence": (io.BytesIO(PDF), "erklaerung.pdf")},
        content_type="multipart/form-data")
    assert refused.status_code in (303, 409)
    db.session.expire_all()
    assert db.session.get(Declaration, decl.id).evidence_key is None
    assert _chunks() == 0 and not storage().exists(hashlib.sha256(PDF).hexdigest())

    with pytest.raises(RefusedChange, match="refused"), unit_of_work():
        storage().put(PDF)
        raise RefusedChange("refused after the file was put")
    assert _chunks() == 0


def test_large_files_are_chunked_and_stream_back(app) -> None:
    data = bytes(range(256)) * (CHUNK_BYTES // 256 * 2 + 3)
    with unit_of_work():
        key = storage().put(data)
        assert storage().put(data) == key  # equal content: one stored file
    assert _chunks() == 3
    assert b"".join(storage().chunks(key)) == data == storage().get(key)


def test_erasure_removes_the_content_in_its_own_transaction(app, agreement, make_user) -> None:
    store = storage()
    with unit_of_work():
        own, shared = store.put(b"%PDF-1.7 Erika Muster"), store.put(b"%PDF-1.7 Formblatt")
    old = agreement(status="ended", end_date=date(2019, 12, 31))
    kept = add_declaration(agreement(status="active"), evidence_key=shared,
                           evidence_sha256=shared)
    for key in (own, shared):
        add_declaration(old, evidence_key=key, evidence_sha256=key, evidence_filename="e.pdf")

    # A release in a transaction that rolls back removes nothing.
    with pytest.raises(RuntimeError, match="crash"), unit_of_work():
        store.release([own])
        raise RuntimeError("crash before the commit")
    assert store.exists(own)

    assert retention.purge(old.id, None)["files"] == 1
    assert not store.exists(own) and store.exists(shared)  # the other record still names it
    assert db.session.get(Declaration, kept.id).evidence_key == shared
    assert db.session.scalar(select(func.count()).select_from(StoredFileChunk).where(
        StoredFileChunk.sha256 == own)) == 0


def _migrate(runner, *args: str):
    return runner.invoke(args=["storage", "migrate", *args])


def test_migrate_both_ways_verifies_every_hash(app, runner, tmp_path: Path) -> None:
    local = LocalStorage(app.config["UPLOAD_FOLDER"])
    contents = [f"%PDF-1.7 Akte {n}".encode() * (n + 1) for n in range(4)]
    keys = [local.put(data) for data in contents]

    moved = _migrate(runner, "--to", "postgres")
    assert moved.exit_code == 0, moved.output
    assert "4 examined, 4 copied" in moved.output and "0 refused" in moved.output
    assert [storage().get(key) for key in keys] == contents
    again = _migrate(runner, "--to", "postgres")  # idempotent
    assert "4 examined, 0 copied (0 bytes), 4 already there and verified" in again.output

    # Back to an empty folder, removing the database's copies once verified.
    for key in keys:
        local.delete(key)
    back = _migrate(runner, "--to", "local", "--remove-source")
    assert back.exit_code == 0, back.output
    assert "4 copied" in back.output and "4 removed from postgres" in back.output
    assert [local.get(key) for key in keys] == contents
    assert db.session.scalar(select(func.count()).select_from(StoredFile)) == 0
    events = db.session.scalars(select(AuditEvent.summary).where(
        AuditEvent.action == "storage.migrate")).all()
    assert len(events) == 3


def test_migrate_refuses_a_corrupted_file(app, runner) -> None:
    local = LocalStorage(app.config["UPLOAD_FOLDER"])
    good, bad = local.put(b"%PDF-1.7 intact"), local.put(b"%PDF-1.7 will rot")
    local._path(bad).write_bytes(b"%PDF-1.7 rotten")  # the disk changed it
    result = _migrate(runner, "--to", "postgres")
    assert result.exit_code == 1
    assert re.search(rf"REFUSED {bad}: the local copy's SHA-256 is [0-9a-f]{{64}}: does not "
                     r"match its SHA-256; not moved", result.output)
    assert "1 copied" in result.output and "1 refused" in result.output
    assert storage().exists(good) and not storage().exists(bad)

    # The other way: a chunk changed in the database is refused too; the folder keeps its
    # intact copy and nothing is removed from the database.
    local.delete(good)
    db.session.execute(update(StoredFileChunk).where(StoredFileChunk.sha256 == good)
                       .values(data=b"%PDF-1.7 tampered"))
    db.session.commit()
    back = _migrate(runner, "--to", "local", "--remove-source")
    assert back.exit_code == 1
    assert f"REFUSED {good}: the postgres copy's SHA-256 is" in back.output
    assert not local.exists(good) and storage().exists(good)


def test_the_default_backend_follows_the_database(app_config, tmp_path: Path) -> None:
    config: Callable[[str], dict[str, object]] = lambda url: {  # noqa: E731
        **app_config, "STORAGE_BACKEND": None, "SQLALCHEMY_DATABASE_URI": url}
    sqlite = create_app(config(f"sqlite:///{tmp_path / 'x.db'}"))
    with sqlite.app_context():
        assert storage().name == "local"
    with create_app(config("postgresql+psycopg://u@127.0.0.1:1/none")).app_context():
        assert storage().name == "postgres"
    with pytest.raises(RuntimeError, match="STORAGE_BACKEND must be one of local, postgres, "
                                           "not 's3'"):
        create_app({**config(f"sqlite:///{tmp_path / 'x.db'}"), "STORAGE_BACKEND": "s3"})


def test_with_local_folders_the_other_node_says_missing_not_erased(app, node2, make_user,
                                                                   published_clauses,
                                                                   csrf) -> None:
    """The failure the database backend removes, shown truthfully where it remains: with
    `local` folders per node, the other node lacks the file and says so."""
    app.config["STORAGE_BACKEND"] = node2.config["STORAGE_BACKEND"] = "local"
    officer = make_user("procurement_officer", "ZVS")
    one, two = _on(app, officer.username), _on(node2, officer.username)
    made = one.post("/documents/generate", data={
        "csrf_token": csrf(one, "/documents/generate"), "template": "services",
        "language": "de", "reference": "V-2026-018", "subject": "Reinigung",
        "authority": "Stadt Jena", "authority_address": "Am Anger 15, 07743 Jena",
        "counterparty": "Muster GmbH", "counterparty_address": "Hauptstr. 1, 07743 Jena",
        "value": "1.000,00", "start_date": "01.02.2026", "end_date": "31.01.2027",
        "signature_date": "15.01.2026", "vat_rate": "19"})
    assert made.status_code == 302
    record_id = int(made.headers["Location"].rstrip("/").split("/")[-1])
    assert f"/documents/{record_id}/download" in one.get(f"/documents/{record_id}").get_data(
        as_text=True)
    page = two.get(f"/documents/{record_id}").get_data(as_text=True)
    assert "Die Datei fehlt im Dateispeicher" in page and "Aufbewahrungsfrist" not in page
    assert _chunks() == 0 and len(_files_on_disk(app.config["UPLOAD_FOLDER"])) == 1
