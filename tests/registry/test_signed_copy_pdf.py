"""The loop end to end, through the web app, on either database: award → the generated DOCX →
exported to PDF by LibreOffice → filed as the signed copy → verbatim → compliant; a PDF with
one word of the clause changed → deviation, non-compliant, diff shown; a scan of it → OCR
match → confirmed by the officer → compliant; a PDF signed with a test CA → signer shown,
trusted with the CA in the trust dir, reported as modified after an incremental update."""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest
from PIL import Image

from clause_tracker.agreements import services as agreements
from clause_tracker.agreements import signed_copy
from clause_tracker.clauses.services import current_version
from clause_tracker.compliance.state import compliance_of
from clause_tracker.extensions import db
from tests.documents.pdf_builders import add_note_after_signing, make_ca_and_signer, sign
from tests.factories import add_declaration
from tests.helpers import hidden_fields, replace_in_docx

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
PDFTOPPM = shutil.which("pdftoppm")
TESSERACT = shutil.which("tesseract")

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("libreoffice")]


def _to_pdfs(folder: Path, **documents: bytes) -> dict[str, bytes]:
    """The DOCX files exported to PDF by LibreOffice, in one run of it."""
    if not SOFFICE:
        pytest.skip("LibreOffice (soffice) not installed: apt-get install libreoffice-writer-nogui")
    for name, docx in documents.items():
        (folder / f"{name}.docx").write_bytes(docx)
    subprocess.run([SOFFICE, f"-env:UserInstallation=file://{folder / 'profile'}", "--headless",
                    "--norestore", "--convert-to", "pdf", "--outdir", str(folder),
                    *(str(folder / f"{name}.docx") for name in documents)],
                   check=True, capture_output=True, timeout=240)
    return {name: (folder / f"{name}.pdf").read_bytes() for name in documents}


def _scan(folder: Path, pdf: bytes) -> bytes:
    """The PDF as a copier makes it: pages rasterised at 300 dpi, rebuilt as an image PDF."""
    if not PDFTOPPM or not TESSERACT:
        pytest.skip("apt-get install poppler-utils tesseract-ocr tesseract-ocr-deu")
    (folder / "in.pdf").write_bytes(pdf)
    subprocess.run([PDFTOPPM, "-r", "300", "-gray", str(folder / "in.pdf"),
                    str(folder / "scan")], check=True, timeout=120)
    pages = [Image.open(p) for p in sorted(folder.glob("scan*.pgm"))]
    out = io.BytesIO()
    pages[0].save(out, "PDF", save_all=True, append_images=pages[1:], resolution=300)
    return out.getvalue()




@pytest.fixture
def awarded(client, signed_in, published_clauses, counterparty):
    officer = signed_in("procurement_officer", "ZVS")
    contract = agreements.create("contract", {
        "reference": "ZVS-2026-PDF", "subject": "Reinigung der Schulen",
        "counterparty_id": counterparty.id, "decided_on": date.today(),
        "contract_kind": "services", "procedure": "open", "value": 1000, "vat_rate": 19,
        "start_date": date.today(), "end_date": date.today() + timedelta(days=300)},
        officer, "token-pdf")
    contract.clause_version_id = current_version("procurement", "de").id
    db.session.commit()
    add_declaration(contract, "accepted", valid_until=date.today() + timedelta(days=400))
    agreements.change_status(contract, "awarded", contract.version_id, officer)
    fields = hidden_fields(client, f"/agreements/{contract.id}")
    response = client.post(f"/agreements/{contract.id}/document", data={
        "csrf_token": fields["csrf_token"], "version": "0", "language": "de",
        "counterparty_address": "Löbdergraben 1, 07743 Jena"})
    assert response.status_code == 302
    record_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    issued = client.get(f"/documents/{record_id}/download").data
    return contract, issued


def _file(client, agreement_id: int, data: bytes, name: str) -> int:
    fields = hidden_fields(client, f"/agreements/{agreement_id}")
    response = client.post(f"/agreements/{agreement_id}/verify", data={
        "csrf_token": fields["csrf_token"], "document": (io.BytesIO(data), name)},
        content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def _state(agreement_id: int) -> tuple[str, str]:
    db.session.expire_all()
    found = compliance_of(agreement_id)
    return found.state, found.reason


def test_pdf_deviation_scan_and_confirmation(client, awarded, tmp_path) -> None:
    contract, issued = awarded
    assert _state(contract.id) == ("pending", "signed_copy_awaited")

    exported = _to_pdfs(tmp_path, vertrag=issued,
                        geaendert=replace_in_docx(issued, "unverzüglich", "umgehend"))
    pdf = exported["vertrag"]
    record_id = _file(client, contract.id, pdf, "vertrag-unterschrieben.pdf")
    assert signed_copy.current(contract.id).status == "verbatim"
    assert _state(contract.id) == ("compliant", "declaration_valid")
    shown = client.get(f"/documents/{record_id}").get_data(as_text=True)
    assert "PDF" in shown and "100\u00a0%" in shown

    record_id = _file(client, contract.id, exported["geaendert"], "geaendert.pdf")
    assert _state(contract.id) == ("non_compliant", "signed_copy_deviates")
    shown = client.get(f"/documents/{record_id}").get_data(as_text=True)
    assert "unverzüglich" in shown and "umgehend" in shown

    _file(client, contract.id, _scan(tmp_path, pdf), "scan.pdf")
    copy = signed_copy.current(contract.id)
    assert (copy.status, copy.details["method"]) == ("ocr_match", "ocr")
    assert copy.details["similarity"] >= 0.97
    assert _state(contract.id) == ("pending", "signed_copy_unconfirmed")
    page = client.get(f"/agreements/{contract.id}").get_data(as_text=True)
    assert "registry.confirm_signed_copy" not in page and "/signed-copy/confirm" in page
    fields = hidden_fields(client, f"/agreements/{contract.id}")
    confirmed = client.post(f"/agreements/{contract.id}/signed-copy/confirm",
                            data={"csrf_token": fields["csrf_token"], "record_id": copy.id})
    assert confirmed.status_code == 302
    assert _state(contract.id) == ("compliant", "declaration_valid")


def test_electronically_signed_pdf(client, awarded, app, tmp_path) -> None:
    contract, issued = awarded
    signer, ca_path = make_ca_and_signer(tmp_path / "trust")
    signed = sign(_to_pdfs(tmp_path, vertrag=issued)["vertrag"], signer)

    record_id = _file(client, contract.id, signed, "signiert.pdf")
    [signature] = signed_copy.current(contract.id).details["signatures"]
    assert (signature["signer"], signature["intact"], signature["trusted"]) == (
        "Erika Mustermann", True, None)
    shown = client.get(f"/documents/{record_id}").get_data(as_text=True)
    assert "Erika Mustermann" in shown and "Vertrauensliste" in shown  # not checked, said so

    app.config["SIGNATURE_TRUST_DIR"] = str(ca_path.parent)
    _file(client, contract.id, signed, "signiert-2.pdf")
    [signature] = signed_copy.current(contract.id).details["signatures"]
    assert signature["trusted"] is True
    assert _state(contract.id) == ("compliant", "declaration_valid")

    record_id = _file(client, contract.id, add_note_after_signing(signed), "ergaenzt.pdf")
    [signature] = signed_copy.current(contract.id).details["signatures"]
    assert signature["coverage"] == "modified_after_signing"
    shown = client.get(f"/documents/{record_id}").get_data(as_text=True)
    assert 'role="alert"' in shown and "nach der Signatur verändert" in shown
