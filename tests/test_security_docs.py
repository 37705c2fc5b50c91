"""Issue 13, from the security side: documents, evidence, generated contracts, complaints and
four-eyes decisions. Each test reproduces a finding of the review and asserts the behaviour."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import docx
import pytest
from sqlalchemy import func, select

from clause_tracker.agreements import services as agreements
from clause_tracker.agreements import signed_copy
from clause_tracker.audit.models import AuditEvent
from clause_tracker.checks import services as checks
from clause_tracker.checks.models import Complaint, ComplianceCheck
from clause_tracker.clauses.services import current_version
from clause_tracker.clauses.texts import load_library
from clause_tracker.compliance.state import compliance_of
from clause_tracker.declarations import evidence
from clause_tracker.declarations import services as declarations
from clause_tracker.declarations.models import Declaration
from clause_tracker.documents import verify
from clause_tracker.documents.errors import DocumentRejected
from clause_tracker.documents.ingest import Limits, check_bytes
from clause_tracker.documents.web import services as web_services
from clause_tracker.documents.web.models import DocumentRecord
from clause_tracker.extensions import db
from clause_tracker.i18n import LANGUAGE_COOKIE
from tests.factories import add_declaration, file_signed_copy, new_counterparty
from tests.helpers import PDF, german, hidden_fields
from tests.test_documents_web import REPO


def _docx(*paragraphs: str) -> bytes:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _upload(client, csrf, path: str, data: bytes, name: str = "vertrag.docx", **fields):
    form = {"csrf_token": csrf(client, "/documents/"), "document": (io.BytesIO(data), name)}
    form.update(fields)
    return client.post(path, data=form, content_type="multipart/form-data")


def _confirm_fields(page: str) -> dict[str, str]:
    return dict(re.findall(r'name="(upload|filename|variant|language)"[^>]*value="([^"]*)"',
                           page))


def _records() -> int:
    return db.session.scalar(select(func.count()).select_from(DocumentRecord))


def _logout(client, csrf) -> None:
    client.post("/logout", data={"csrf_token": csrf(client, "/")})


# --- 10. the insert confirmation reads only the user's own pending upload --------------------

def test_insert_confirm_refuses_another_units_file_by_its_hash(client, make_user, login,
                                                               published_clauses, csrf,
                                                               monkeypatch) -> None:
    jk = make_user("procurement_officer", "JK")
    kij = make_user("procurement_officer", "KIJ")
    secret = _docx("Vertrag JenaKultur: Honorar 48.000 € an Frau Beispiel",
                   "{{ antirassismusklausel }}", "Unterschriften")
    login(client, jk.username)
    preview = _upload(client, csrf, "/documents/insert", secret, variant="procurement",
                      language="de")
    assert preview.status_code == 200
    jk_fields = _confirm_fields(preview.get_data(as_text=True))
    _logout(client, csrf)

    sha = hashlib.sha256(secret).hexdigest()
    login(client, kij.username)
    german(client)
    before = _records()
    # The SHA-256 of JenaKultur's upload (a hash is no secret: it is shown on every record) …
    forged = {"csrf_token": csrf(client, "/documents/"), "upload": sha,
              "filename": "kij.docx", "variant": "procurement", "language": "de"}
    done = client.post("/documents/insert/confirm", data=forged, follow_redirects=True)
    assert "Der Upload ist abgelaufen" in done.get_data(as_text=True)
    # … and JenaKultur's own confirmation token, copied: neither is KIJ's upload.
    copied = jk_fields | {"csrf_token": csrf(client, "/documents/")}
    done = client.post("/documents/insert/confirm", data=copied, follow_redirects=True)
    assert "Der Upload ist abgelaufen" in done.get_data(as_text=True)
    assert _records() == before
    assert not db.session.scalars(select(DocumentRecord).where(
        DocumentRecord.input_sha256 == sha)).all()
    _logout(client, csrf)

    # Nor does the uploader's own token once it has expired.
    login(client, jk.username)
    monkeypatch.setattr(web_services, "UPLOAD_TOKEN_MAX_AGE", -1)
    expired = jk_fields | {"csrf_token": csrf(client, "/documents/")}
    assert client.post("/documents/insert/confirm", data=expired).status_code == 302
    assert _records() == before
    monkeypatch.undo()
    _logout(client, csrf)

    # The uploader's own token still confirms.
    login(client, jk.username)
    own = jk_fields | {"csrf_token": csrf(client, "/documents/")}
    assert client.post("/documents/insert/confirm", data=own).status_code == 302
    record = db.session.scalar(select(DocumentRecord).where(DocumentRecord.input_sha256 == sha))
    assert record is not None and record.created_by_id == jk.id


# --- 17. values of a generated contract never act as placeholders ----------------------------

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _body_blocks(data: bytes) -> list[tuple[str, str]]:
    """(kind, text) of the body's blocks in order: "p" paragraphs, "clause" the clause's
    content control."""
    body = docx.Document(io.BytesIO(data)).element.body
    blocks = []
    for el in body:
        text = "".join(t.text or "" for t in el.iter(f"{W}t")).replace("\u2060", "")
        if el.tag == f"{W}sdt":
            tag = el.find(f"{W}sdtPr/{W}tag")
            kind = "clause" if tag is not None and tag.get(f"{W}val") == "antirassismusklausel" \
                else "sdt"
            blocks.append((kind, text))
        elif el.tag == f"{W}p":
            blocks.append(("p", text))
    return blocks


def test_a_field_value_cannot_move_the_clause_into_the_contract(client, signed_in,
                                                                published_clauses, csrf) -> None:
    signed_in("procurement_officer")
    subject = "Reinigung {{ antirassismusklausel }} und {{reference}} {{{ subject }}}"
    form = {
        "csrf_token": csrf(client, "/documents/generate"), "template": "supplies",
        "language": "de", "reference": "V-2026-099", "subject": subject,
        "authority": "Stadt Jena", "authority_address": "Am Anger 15, 07743 Jena",
        "counterparty": "{{ ANTIRASSISMUSKLAUSEL }} GmbH",
        "counterparty_address": "{{ contractor_address }}",
        "value": "400,00", "vat_rate": "19", "start_date": "01.02.2026", "end_date": "31.01.2027",
        "signature_date": "15.01.2026",
    }
    response = client.post("/documents/generate", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    record = db.session.scalar(select(DocumentRecord).where(DocumentRecord.action == "generate"))
    assert record.location_mode == "placeholder"
    issued = client.get(f"/documents/{record.id}/download").data
    blocks = _body_blocks(issued)
    clause_at = [i for i, (kind, _text) in enumerate(blocks) if kind == "clause"]
    assert len(clause_at) == 1  # exactly one clause, where the template's placeholder was
    i = clause_at[0]
    # As Anlage 1, under its heading, after § 5 and the signatures.
    assert blocks[i - 1][1] == "Anlage 1 – Besondere Vertragsbedingung zur Antirassismusklausel"
    texts = [text for _kind, text in blocks]
    assert texts.index("Unterschriften") < i
    assert any(text.startswith("Änderungen und Ergänzungen") for text in texts[:i])
    # The values stand as written, braces and all, where the template put them.
    assert f"Der Auftragnehmer liefert für den Auftraggeber: {subject}." in texts
    assert "{{ ANTIRASSISMUSKLAUSEL }} GmbH{{ contractor_address }}" in texts  # two lines
    assert "Vergabenummer: V-2026-099" in texts
    assert verify(issued, load_library(REPO / "clause_texts")).status == "verbatim"


# --- 12. downloads are never stored by a cache; 13. their names follow the content -----------

def _receive_evidence(client, decl, data: bytes, name: str):
    fields = hidden_fields(client, f"/declarations/{decl.id}/receive")
    return client.post(f"/declarations/{decl.id}/receive", data={
        **fields, "signer_name": "Erika Muster", "signer_function": "Geschäftsführerin",
        "signed_on": "06.03.2026", "received_on": "09.03.2026", "channel": "post",
        "valid_until": "", "evidence": (io.BytesIO(data), name)},
        content_type="multipart/form-data")


def _filename(response) -> str:
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    match = re.search(r'filename="?([^";]+)"?', disposition)
    assert match, disposition
    return match.group(1)


def test_evidence_download_is_no_store_and_named_by_its_content(client, signed_in,
                                                                 agreement) -> None:
    signed_in("procurement_officer")
    contract = agreement(status="draft")
    decl = add_declaration(contract, state="requested")
    assert _receive_evidence(client, decl, PDF, "erklaerung.html").status_code == 302
    db.session.expire_all()
    decl = db.session.get(Declaration, decl.id)
    assert decl.evidence_mimetype == "application/pdf"
    assert decl.evidence_filename == "erklaerung.pdf"  # the PDF is shown as what it is
    download = client.get(f"/declarations/{decl.id}/evidence")
    assert download.status_code == 200 and download.data == PDF
    assert _filename(download) == "erklaerung.pdf"
    assert download.mimetype == "application/pdf"
    assert download.headers["Cache-Control"] == "no-store"
    assert download.headers["X-Content-Type-Options"] == "nosniff"

    # Evidence stored before the fix under the uploader's name downloads by its type too.
    decl.evidence_filename = "alt.html"
    db.session.commit()
    download = client.get(f"/declarations/{decl.id}/evidence")
    assert _filename(download) == "alt.pdf" and download.mimetype == "application/pdf"


def test_document_download_is_no_store_and_a_docx_by_name(client, signed_in, published_clauses,
                                                          csrf) -> None:
    signed_in("procurement_officer")
    preview = _upload(client, csrf, "/documents/insert",
                      _docx("Vertrag", "{{ antirassismusklausel }}", "Unterschriften"),
                      name="vertrag.html", variant="procurement", language="de")
    fields = _confirm_fields(preview.get_data(as_text=True))
    fields["csrf_token"] = csrf(client, "/documents/")
    done = client.post("/documents/insert/confirm", data=fields)
    record_id = int(done.headers["Location"].rstrip("/").split("/")[-1])
    download = client.get(f"/documents/{record_id}/download")
    assert download.status_code == 200 and download.data.startswith(b"PK")
    assert download.headers["Cache-Control"] == "no-store"
    assert _filename(download) == "vertrag.docx"
    assert download.mimetype == ("application/vnd.openxmlformats-officedocument"
                                 ".wordprocessingml.document")


# --- 18. a VBA relationship to a renamed part is refused ------------------------------------

def _with_vba_relationship(data: bytes) -> bytes:
    """`data` with the VBA project renamed to word/styles2.dat (an ordinary content type),
    reached only through a relationship of the vbaProject type."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    rel = (b'<Relationship Id="rIdVba" Type="http://schemas.microsoft.com/office/2006/'
           b'relationships/vbaProject" Target="styles2.dat"/></Relationships>')
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            part = source.read(item.filename)
            if item.filename == "word/_rels/document.xml.rels":
                part = part.replace(b"</Relationships>", rel)
            elif item.filename == "[Content_Types].xml":
                part = part.replace(b"</Types>", b'<Default Extension="dat" ContentType='
                                    b'"application/octet-stream"/></Types>')
            target.writestr(item, part)
        target.writestr("word/styles2.dat", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    return out.getvalue()


def test_a_vba_relationship_to_a_renamed_part_is_refused_as_evidence(app, client, signed_in,
                                                                    agreement) -> None:
    hostile = _with_vba_relationship(_docx("Eigenerklärung"))
    signed_in("procurement_officer")
    client.set_cookie(LANGUAGE_COOKIE, "en")  # the German wording waits for the catalog
    decl = add_declaration(agreement(status="draft"), state="requested")
    response = _receive_evidence(client, decl, hostile, "erklaerung.docx")
    assert response.status_code == 422  # the form again, with the reason beside the field
    page = response.get_data(as_text=True)
    assert "The document contains macros (VBA) under another name (a link in " \
           "word/_rels/document.xml.rels)" in page
    db.session.expire_all()
    decl = db.session.get(Declaration, decl.id)
    assert decl.state == "requested" and decl.evidence_key is None
    assert [p for p in Path(app.config["UPLOAD_FOLDER"]).rglob("*") if p.is_file()] == []
    # The documents desk refuses it as well, before anything is stored.
    with pytest.raises(evidence.EvidenceError, match="macros"):
        evidence.accept(hostile, "x.docx")
    with pytest.raises(DocumentRejected) as refused:
        check_bytes(hostile, Limits())
    assert refused.value.code == "macro_enabled"


# --- 14. a verification matched by hash stays within what the uploader may see ---------------

def _verify_upload(client, data: bytes, name: str) -> DocumentRecord:
    token = hidden_fields(client, "/documents/")["csrf_token"]
    response = client.post("/documents/verify", data={
        "csrf_token": token, "document": (io.BytesIO(data), name)},
        content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return db.session.get(DocumentRecord,
                          int(response.headers["Location"].rstrip("/").split("/")[-1]))


def test_a_hash_match_never_reaches_into_another_units_agreement(
        client, signed_in, published_clauses, counterparty, login, make_user, csrf) -> None:
    officer = signed_in("procurement_officer", "ZVS")
    contract = agreements.create("contract", {
        "reference": "ZVS-2026-014", "subject": "Reinigung", "counterparty_id": counterparty.id,
        "decided_on": date.today(), "contract_kind": "services", "procedure": "open",
        "value": 1000, "vat_rate": 19, "start_date": date.today(),
        "end_date": date.today() + timedelta(days=300)},
        officer, "token-finding-14")
    fields = hidden_fields(client, f"/agreements/{contract.id}")
    generated = client.post(f"/agreements/{contract.id}/document", data={
        "csrf_token": fields["csrf_token"], "version": "0", "language": "de",
        "counterparty_address": "Löbdergraben 1, 07743 Jena"})
    issued_id = int(generated.headers["Location"].rstrip("/").split("/")[-1])
    issued = client.get(f"/documents/{issued_id}/download").data
    _logout(client, csrf)

    stranger = make_user("procurement_officer", "KIJ")
    login(client, stranger.username)
    german(client)
    record = _verify_upload(client, issued, "kopie.docx")
    assert record.agreement_id is None  # not filed on ZVS's contract
    assert record.details["identical_to_issued"] is None  # nor told which record it is
    page = client.get(f"/documents/{record.id}").get_data(as_text=True)
    assert f"Datensatz #{issued_id}" not in page and "ZVS-2026-014" not in page
    _logout(client, csrf)

    # ZVS's contract neither counts the stranger's upload nor shows it in its history.
    login(client, officer.username)
    assert signed_copy.current(contract.id) is None
    page = client.get(f"/agreements/{contract.id}").get_data(as_text=True)
    assert "kopie.docx" not in page and stranger.display_name not in page
    _logout(client, csrf)

    # A colleague of the unit gets the match: filed on the contract, the issued record named.
    colleague = make_user("procurement_officer", "ZVS")
    login(client, colleague.username)
    german(client)
    mine = _verify_upload(client, issued, "rueckläufer.docx")
    assert mine.agreement_id == contract.id and mine.details["identical_to_issued"] == issued_id
    page = client.get(f"/documents/{mine.id}").get_data(as_text=True)
    assert f"Datensatz #{issued_id}" in page


# --- 4. the complaint form takes the office's case reference and nothing else ---------------

PERSONAL = ["Max Mustermann", "Ayse Yilmaz tuerkisch Kopftuch", "Tel 0176 1234567",
            "geb. 01.02.1985 Jena-Lobeda", "ADS-2026-0042 Max Mustermann",
            "ADS-\u0662\u0660\u0662\u0666-0042"]


def _stored_anywhere(text: str) -> list[str]:
    """Where `text` (or a piece of it) was written: complaints, checks, the audit trail."""
    found = []
    for piece in {text, *text.split()}:
        if len(piece) < 4 or piece.startswith("ADS-2026"):
            continue
        like = f"%{piece}%"
        if db.session.scalar(select(func.count()).select_from(Complaint).where(
                Complaint.case_reference.like(like))):
            found.append(f"complaints: {piece}")
        if db.session.scalar(select(func.count()).select_from(ComplianceCheck).where(
                ComplianceCheck.occasion.like(like))):
            found.append(f"checks: {piece}")
        if db.session.scalar(select(func.count()).select_from(AuditEvent).where(
                AuditEvent.summary.like(like) | AuditEvent.details.like(like))):
            found.append(f"audit: {piece}")
    return found


def test_the_complaint_form_takes_only_the_offices_case_reference(client, signed_in,
                                                                  agreement) -> None:
    contract = agreement()
    signed_in("procurement_officer", "ZVS")
    client.set_cookie(LANGUAGE_COOKIE, "en")  # the German wording waits for the catalog
    path = f"/compliance/complaints/{contract.id}"
    events = db.session.scalar(select(func.count()).select_from(AuditEvent))
    for text in PERSONAL:
        fields = hidden_fields(client, path)
        response = client.post(path, data={**fields, "case_reference": text,
                                           "received_on": date.today().strftime("%d.%m.%Y")})
        assert response.status_code == 400, text
        page = response.get_data(as_text=True)
        assert ("Enter only the case reference of the anti-discrimination office, in its "
                "format (e.g. ADS-2026-0042): no names, contact details") in page, text
        assert _stored_anywhere(text) == [], text
    assert db.session.scalar(select(func.count()).select_from(Complaint)) == 0
    assert db.session.scalar(select(func.count()).select_from(ComplianceCheck)) == 0
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == events

    fields = hidden_fields(client, path)
    response = client.post(path, data={**fields, "case_reference": " ADS-2026-0042 ",
                                       "received_on": date.today().strftime("%d.%m.%Y")})
    assert response.status_code == 302
    complaint = db.session.scalar(select(Complaint))
    assert complaint.case_reference == "ADS-2026-0042"
    check = db.session.get(ComplianceCheck, complaint.check_id)
    # The check's occasion names the complaint row, not what was typed.
    assert check.trigger == "complaint" and check.occasion == f"complaint:{complaint.id}"


def test_the_case_reference_pattern_is_configurable(app, make_user, agreement) -> None:
    app.config["COMPLAINT_REFERENCE_PATTERN"] = r"^AZ \d{2}/\d{3}$"
    app.config["COMPLAINT_REFERENCE_EXAMPLE"] = "AZ 26/017"
    officer = make_user("procurement_officer", "ZVS")
    contract = agreement()
    with app.test_request_context():
        with pytest.raises(checks.CheckError, match=r"z\. B\. AZ 26/017"):
            checks.record_complaint(contract, "ADS-2026-0042", date.today(), officer,
                                    date.today())
        check = checks.record_complaint(contract, "AZ 26/017", date.today(), officer,
                                        date.today())
    assert check.occasion.startswith("complaint:") and "AZ" not in check.occasion


# --- 3. four-eyes decisions do not outlive later edits (fixed with issue 12) ----------------

REASON = "Notvergabe (Gefahr im Verzug)"


def _edit_as_the_review_did(client, contract) -> None:
    """One edit through the form: 400 € → 4.900.000 €, another counterparty, another
    procedure."""
    path = f"/agreements/{contract.id}/edit"
    other = new_counterparty(name="Andere Bau AG")
    response = client.post(path, data={
        **hidden_fields(client, path), "reference": contract.reference,
        "subject": contract.subject, "contract_kind": contract.contract_kind,
        "procedure": "negotiated", "counterparty_id": str(other.id), "estimated_value": "",
        "value": "4.900.000,00", "vat_rate": "19", "decided_on": "01.12.2025",
        "start_date": "01.01.2026", "end_date": "31.12.2026", "renewal_options": ""})
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]
    db.session.expire_all()


def test_an_exemption_approved_at_400_euro_is_void_after_the_edit(app, client, login,
                                                                  make_agreement,
                                                                  make_user) -> None:
    app.config["EXEMPTION_REASONS"] = (REASON,)
    contract = make_agreement("contract", value=Decimal("400"))
    officer, admin = make_user("procurement_officer"), make_user("admin")
    agreements.request_exemption(contract, REASON, "Sturmschaden", contract.version_id, officer)
    agreements.approve_exemption(contract, contract.version_id, admin)
    declarations.not_required(contract, "exempt", officer)
    agreements.change_status(contract, "awarded", contract.version_id, officer)
    assert compliance_of(contract.id).state == "exempt"

    login(client, officer.username)
    german(client)
    _edit_as_the_review_did(client, contract)
    contract = db.session.get(type(contract), contract.id)
    assert (contract.value, contract.procedure) == (Decimal("4900000"), "negotiated")
    found = compliance_of(contract.id)
    assert found.state != "exempt"
    assert (found.state, found.reason) == ("non_compliant", "exemption_voided")
    assert contract.exemption_approved_at is None and contract.exemption_voided_at is not None
    assert declarations.main_declaration(contract).state == "voided"
    page = client.get(f"/agreements/{contract.id}").get_data(as_text=True)
    assert "Die Ausnahme ist hinfällig" in page


def test_not_required_below_threshold_is_void_after_the_edit(app, client, login,
                                                             make_agreement, make_user,
                                                             published_clauses) -> None:
    contract = make_agreement("contract", value=Decimal("400"))
    officer = make_user("procurement_officer")
    agreements.set_threshold(contract.org_unit_id, "contract", Decimal("1000"))
    contract.clause_version_id = current_version("procurement", "de").id
    db.session.commit()
    decl = declarations.not_required(contract, "below_threshold", officer)
    agreements.change_status(contract, "awarded", contract.version_id, officer)
    file_signed_copy(contract)
    assert compliance_of(contract.id).reason == "declaration_not_required"

    login(client, officer.username)
    _edit_as_the_review_did(client, contract)
    found = compliance_of(contract.id)
    assert (found.state, found.reason) == ("non_compliant", "not_required_voided")
    assert db.session.get(type(decl), decl.id).state == "voided"
