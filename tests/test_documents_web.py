"""The documents desk in the browser's shoes: upload, preview, insert, download, verify."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import docx
from sqlalchemy import func, select

from clause_tracker.clauses.texts import load_library
from clause_tracker.documents import verify
from clause_tracker.documents.web.models import DocumentRecord
from clause_tracker.extensions import db
from tests.helpers import german

REPO = Path(__file__).resolve().parents[1]
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _contract(placeholder: bool = True) -> bytes:
    document = docx.Document()
    document.add_heading("Dienstleistungsvertrag", level=1)
    document.add_paragraph("§ 7 Besondere Vertragsbedingungen")
    if placeholder:
        document.add_paragraph("Es gilt: {{ antirassismusklausel }} (Anlage)")
    document.add_paragraph("Unterschriften")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _upload(client, csrf, path: str, data: bytes, name: str = "vertrag.docx", **fields):
    form = {"csrf_token": csrf(client, "/documents/"), "document": (io.BytesIO(data), name)}
    form.update(fields)
    return client.post(path, data=form, content_type="multipart/form-data")


def _records() -> int:
    return db.session.scalar(select(func.count()).select_from(DocumentRecord))


def _insert(client, csrf, data: bytes) -> DocumentRecord:
    preview = _upload(client, csrf, "/documents/insert", data, variant="procurement",
                      language="de")
    assert preview.status_code == 200, preview.get_data(as_text=True)[:2000]
    page = preview.get_data(as_text=True)
    fields = dict(re.findall(r'name="(upload|filename|variant|language)"[^>]*value="([^"]*)"',
                             page))
    fields["csrf_token"] = csrf(client, "/documents/")
    done = client.post("/documents/insert/confirm", data=fields)
    assert done.status_code == 302
    record_id = int(done.headers["Location"].rstrip("/").split("/")[-1])
    return db.session.get(DocumentRecord, record_id)


def test_preview_shows_where_the_clause_goes(client, signed_in, published_clauses, csrf) -> None:
    signed_in("procurement_officer")
    german(client)
    page = _upload(client, csrf, "/documents/insert", _contract(), variant="procurement",
                   language="de").get_data(as_text=True)
    assert "Die Klausel wird anstelle des Platzhalters {{ antirassismusklausel }} eingefügt." \
        in page
    assert "§ 7 Besondere Vertragsbedingungen" in page
    assert _records() == 0  # nothing recorded before the officer confirms


def test_insert_download_and_verify_round_trip(client, signed_in, published_clauses, csrf) -> None:
    signed_in("procurement_officer")
    german(client)
    record = _insert(client, csrf, _contract())
    assert (record.variant, record.version, record.language) == ("procurement", "1.0", "de")
    assert record.location_mode == "placeholder"
    response = client.get(f"/documents/{record.id}/download")
    assert response.status_code == 200
    assert response.mimetype == DOCX
    assert response.headers["Content-Disposition"].startswith("attachment;")
    issued = response.data
    assert verify(issued, load_library(REPO / "clause_texts")).status == "verbatim"

    checked = _upload(client, csrf, "/documents/verify", issued, name="signed.docx")
    assert checked.status_code == 302
    page = client.get(checked.headers["Location"]).get_data(as_text=True)
    assert "Klausel vorhanden, Wort für Wort" in page
    assert "nur die Formatierung weicht ab" not in page
    assert f"#{record.id}" in page  # recognised as the document issued


def test_confirm_without_a_file_name_gets_the_default_name(client, signed_in, published_clauses,
                                                          csrf) -> None:
    # The file name is an optional field of the confirm form: a POST without it once
    # passed None on and failed with a 500.
    signed_in("procurement_officer")
    page = _upload(client, csrf, "/documents/insert", _contract(), variant="procurement",
                   language="de").get_data(as_text=True)
    fields = dict(re.findall(r'name="(upload|variant|language)"[^>]*value="([^"]*)"', page))
    fields["csrf_token"] = csrf(client, "/documents/")
    done = client.post("/documents/insert/confirm", data=fields)
    assert done.status_code == 302
    record_id = int(done.headers["Location"].rstrip("/").split("/")[-1])
    assert db.session.get(DocumentRecord, record_id).filename == "document.docx"


def test_changed_clause_is_shown_as_deviation(client, signed_in, published_clauses, csrf) -> None:
    signed_in("grant_manager")
    record = _insert(client, csrf, _contract())
    issued = client.get(f"/documents/{record.id}/download").data
    # The counterparty edits one word of the clause inside the document.
    source = zipfile.ZipFile(io.BytesIO(issued))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "word/document.xml":
                content = content.replace(b"Diskriminierung", b"Benachteiligung", 1)
            target.writestr(item, content)
    checked = _upload(client, csrf, "/documents/verify", out.getvalue(), name="signed.docx")
    page = client.get(checked.headers["Location"]).get_data(as_text=True)
    assert "Benachteiligung" in page and "<del>" in page
    assert db.session.scalar(select(DocumentRecord.status).where(
        DocumentRecord.action == "verify")) == "deviation"


def test_hostile_upload_is_refused_and_nothing_is_stored(app, client, signed_in, published_clauses,
                                                         csrf) -> None:
    signed_in("procurement_officer")
    german(client)
    for data, name, reason in (
            (b"%PDF-1.7 not a docx", "x.docx",
             "Die Datei ist kein Word-Dokument (.docx); sie ist kein ZIP-Paket."),
            (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "encrypted.docx",
             "Die Datei ist verschlüsselt oder passwortgeschützt")):
        response = _upload(client, csrf, "/documents/insert", data, name=name,
                           variant="procurement", language="de")
        assert response.status_code == 422
        page = response.get_data(as_text=True)
        assert f'role="alert">Das Dokument wurde nicht angenommen: {reason}' in page
        assert "Traceback" not in page
    assert _records() == 0
    assert [p for p in Path(app.config["UPLOAD_FOLDER"]).rglob("*") if p.is_file()] == []


def test_missing_file_is_a_form_error(client, signed_in, published_clauses, csrf) -> None:
    signed_in("procurement_officer")
    response = client.post("/documents/verify", data={"csrf_token": csrf(client, "/documents/")})
    assert response.status_code == 400
    assert "error-message" in response.get_data(as_text=True)


def test_generate_contract_with_german_formats(client, signed_in, published_clauses, csrf) -> None:
    signed_in("procurement_officer")
    form = {
        "csrf_token": csrf(client, "/documents/generate"), "template": "services",
        "language": "de", "reference": "V-2026-017", "subject": "Reinigung <Rathaus> & Co",
        "authority": "Stadt Jena", "authority_address": "Am Anger 15, 07743 Jena",
        "counterparty": "Muster GmbH", "counterparty_address": "Hauptstr. 1, 07743 Jena",
        "value": "12.345,60", "start_date": "01.02.2026", "end_date": "31.01.2027",
        "signature_date": "15.01.2026",
    }
    refused = client.post("/documents/generate", data=form)
    assert refused.status_code == 200 and "Verträge brauchen den Umsatzsteuersatz." in \
        refused.get_data(as_text=True)
    form["csrf_token"] = csrf(client, "/documents/generate")
    response = client.post("/documents/generate", data=form | {"vat_rate": "19"})
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    record = db.session.scalar(select(DocumentRecord))
    issued = client.get(f"/documents/{record.id}/download").data
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(issued)).paragraphs)
    assert "netto 12.345,60\u00a0€" in text and "01.02.2026" in text
    assert "19 % Umsatzsteuer in Höhe von 2.345,66\u00a0€" in text
    assert "brutto also 14.691,26\u00a0€" in text
    assert "Reinigung <Rathaus> & Co" in text
    assert verify(issued, load_library(REPO / "clause_texts")).status == "verbatim"


def test_generate_reports_bad_input_next_to_the_fields(client, signed_in, published_clauses,
                                                       csrf) -> None:
    signed_in("grant_manager")
    response = client.post("/documents/generate", data={
        "csrf_token": csrf(client, "/documents/generate"), "template": "grant", "language": "de",
        "reference": "F-1", "subject": "Projekt", "authority": "Stadt Jena",
        "authority_address": "Am Anger 15", "counterparty": "Verein", "counterparty_address": "X",
        "value": "1,234.56", "start_date": "2026-13-01", "end_date": "01.01.2026",
        "signature_date": "01.01.2026",
    })
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "1.234,56" in page  # the amount hint
    assert "05.03.2026" in page  # the date hint
    assert _records() == 0


def test_units_see_only_their_own_documents(client, make_user, login, published_clauses,
                                            csrf) -> None:
    kij = make_user("procurement_officer", "KIJ")
    jk = make_user("procurement_officer", "JK")
    auditor = make_user("auditor")
    login(client, jk.username)
    record = _insert(client, csrf, _contract())
    client.post("/logout", data={"csrf_token": csrf(client, "/")})

    login(client, kij.username)
    assert client.get(f"/documents/{record.id}").status_code == 404
    assert client.get(f"/documents/{record.id}/download").status_code == 404
    assert record.filename not in client.get("/documents/").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf(client, "/")})

    login(client, auditor.username)
    assert client.get(f"/documents/{record.id}").status_code == 200
    response = _upload(client, csrf, "/documents/insert", _contract(), variant="procurement",
                       language="de")
    assert response.status_code == 403


def test_no_published_clause_is_a_clear_message(client, signed_in, csrf) -> None:
    """Without `published_clauses` nothing is published: the officer is told, nothing is issued."""
    signed_in("procurement_officer")
    german(client)
    preview = _upload(client, csrf, "/documents/insert", _contract(), variant="procurement",
                      language="de")
    fields = dict(re.findall(r'name="(upload|filename|variant|language)"[^>]*value="([^"]*)"',
                             preview.get_data(as_text=True)))
    fields["csrf_token"] = csrf(client, "/documents/")
    done = client.post("/documents/insert/confirm", data=fields, follow_redirects=True)
    page = done.get_data(as_text=True)
    assert ("Das Dokument wurde nicht angenommen: Kein veröffentlichter Klauseltext "
            "procurement/de ist heute gültig.") in page
    assert _records() == 0
