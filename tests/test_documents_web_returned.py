"""The documents desk with returned PDFs and signed PDFs: upload, stored result, record page."""

from __future__ import annotations

import io
import json
from pathlib import Path

from sqlalchemy import select

from clause_tracker.clauses.texts import current, default_library_dir, load_library
from clause_tracker.documents.web import services
from clause_tracker.documents.web.models import DocumentRecord
from clause_tracker.extensions import db
from tests.documents.pdf_builders import (
    add_note_after_signing,
    clause_paragraphs,
    layout_pdf,
    make_ca_and_signer,
    sign,
)
from tests.helpers import german


def _contract_pdf() -> bytes:
    clause = current(load_library(default_library_dir()), "procurement", "de")
    assert clause is not None
    return layout_pdf(["Vertrag über Büromöbel", *clause_paragraphs(clause), "Unterschrift"],
                      page_numbers=True, hyphenate=True)


def _upload(client, csrf, data: bytes, name: str):
    form = {"csrf_token": csrf(client, "/documents/"), "document": (io.BytesIO(data), name)}
    return client.post("/documents/verify", data=form, content_type="multipart/form-data")


def test_pdf_upload_is_checked_and_shown(client, signed_in, published_clauses, csrf) -> None:
    signed_in("procurement_officer")
    german(client)
    response = _upload(client, csrf, _contract_pdf(), "unterschrieben.pdf")
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Klausel vorhanden, Wort für Wort" in page
    assert "Text des PDF" in page and "100\u00a0%" in page  # German: no needless zeros
    record = db.session.scalar(select(DocumentRecord).where(DocumentRecord.action == "verify"))
    assert record is not None and record.status == "verbatim"
    assert record.filename == "unterschrieben.pdf"
    assert (record.details["method"], record.details["similarity"]) == ("pdf_text", 1.0)


def test_signed_and_modified_pdf_warns_prominently(client, signed_in, published_clauses, csrf,
                                                  tmp_path: Path) -> None:
    signer, _ = make_ca_and_signer(tmp_path / "ca")
    data = add_note_after_signing(sign(_contract_pdf(), signer))
    signed_in("procurement_officer")
    german(client)
    response = _upload(client, csrf, data, "signiert.pdf")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'role="alert"><strong>Achtung: Das Dokument wurde nach der Signatur verändert.' \
        in page
    assert "Erika Mustermann" in page
    assert "Signatur unversehrt, unterzeichnende Person nicht gegen eine Vertrauensliste " \
           "geprüft" in page
    record = db.session.scalar(select(DocumentRecord).where(DocumentRecord.action == "verify"))
    assert record is not None
    [signature] = json.loads(record.details_json)["signatures"]
    assert (signature["coverage"], signature["trusted"]) == ("modified_after_signing", None)


def test_trust_dir_setting_marks_the_signer_trusted(app, client, signed_in, published_clauses,
                                                    csrf, tmp_path: Path) -> None:
    signer, ca_path = make_ca_and_signer(tmp_path / "ca")
    app.config["SIGNATURE_TRUST_DIR"] = str(ca_path.parent)
    signed_in("procurement_officer")
    german(client)
    response = _upload(client, csrf, sign(_contract_pdf(), signer), "signiert.pdf")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "unterzeichnende Person durch die Vertrauensliste bestätigt" in page
    assert "nach der Signatur verändert" not in page


def test_refused_pdf_is_explained_in_german(client, signed_in, published_clauses, csrf) -> None:
    signed_in("procurement_officer")
    german(client)
    response = _upload(client, csrf, b"GIF89a" + b"\0" * 50, "bild.gif")
    assert response.status_code == 422
    assert "weder ein Word-Dokument (DOCX) noch ein PDF" in response.get_data(as_text=True)


def test_service_check_takes_every_kind_with_an_agreement(app, published_clauses, agreement,
                                                          make_user) -> None:
    user = make_user("procurement_officer", "ZVS")
    contract = agreement()
    record, result = services.check(_contract_pdf(), "vertrag.pdf", user,
                                    agreement_id=contract.id)
    assert (record.agreement_id, record.status, result.method) == (
        contract.id, "verbatim", "pdf_text")
