"""What the city hands out, rendered as a reader sees it: every generated document (contract
and grant notice, German and English clause) and the ECCAR report, through LibreOffice to
PDF/A-2b, checked with Poppler: A4 pages, "Seite N von M" on each, no word of a table header
or a unit name broken across lines, the annex heading, the PDF/A identification. The first
page of each is kept as a PNG in the artefacts folder (CLAUSE_TRACKER_ARTEFACTS, default
tests/artefacts/) for a person to look at."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from docx import Document
from flask import Flask
from flask_babel import force_locale
from pypdf import PdfReader

from clause_tracker.agreements import documents as agreement_documents
from clause_tracker.agreements.models import Agreement
from clause_tracker.auth.models import User
from clause_tracker.bootstrap import DEMO_UNITS
from clause_tracker.documents import verify
from clause_tracker.documents.pdf_export import to_pdfa
from clause_tracker.extensions import db
from clause_tracker.orgunits.services import update_unit
from clause_tracker.overview.tables import figure_tables
from clause_tracker.storage import storage
from tests.factories import new_counterparty, new_user, unit
from tests.overview import overview_dataset

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("libreoffice")]

TOOLS = ("soffice", "pdfinfo", "pdftotext", "pdftoppm")
ROOT = Path(__file__).resolve().parent.parent
ARTEFACTS = Path(os.environ.get("CLAUSE_TRACKER_ARTEFACTS") or ROOT / "tests" / "artefacts")
A4 = {(595, 842), (842, 595)}
ANNEX = {"de": "Anlage 1 – Besondere Vertragsbedingung zur Antirassismusklausel",
         "en": "Annex 1 – Special condition of contract: anti-racism clause"}
GRANT_ANNEX = {"de": "Anlage 1 – Nebenbestimmung zur Antirassismusklausel",
               "en": "Annex 1 – Ancillary provision: anti-racism clause"}


@pytest.fixture(scope="module", autouse=True)
def tools() -> None:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"missing {', '.join(missing)}: apt-get install libreoffice-writer-nogui "
                    "poppler-utils")
    ARTEFACTS.mkdir(parents=True, exist_ok=True)


def _run(*command: str) -> str:
    return subprocess.run(command, check=True, capture_output=True, timeout=120).stdout \
        .decode("utf-8")


def page_sizes(pdf: Path) -> list[tuple[int, int]]:
    info = _run("pdfinfo", "-f", "1", "-l", "999", str(pdf))
    return [(round(float(w)), round(float(h))) for w, h in
            re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", info)]


def page_texts(pdf: Path) -> list[str]:
    return _run("pdftotext", "-layout", "-enc", "UTF-8", str(pdf), "-").split("\f")[:-1]


def pdfa_identification(pdf: Path) -> tuple[str | None, str | None]:
    metadata = PdfReader(pdf).trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    part = re.search(r"pdfaid:part(?:>|=\")\s*(\d)", metadata)
    conformance = re.search(r"pdfaid:conformance(?:>|=\")\s*([A-Za-z])", metadata)
    return (part and part.group(1), conformance and conformance.group(1))


def first_page_png(pdf: Path, name: str) -> Path:
    target = ARTEFACTS / name
    _run("pdftoppm", "-r", "70", "-png", "-f", "1", "-l", "1", "-singlefile", str(pdf),
         str(target))
    return target.with_suffix(".png")


def check_pdf(pdf: Path, name: str, whole_words: list[str], footer: str = "Seite",
              of: str = "von") -> str:
    """The common checks; returns the text (layout kept) for the caller's own."""
    sizes = page_sizes(pdf)
    assert sizes and all(size in A4 for size in sizes), (name, sizes)
    pages = page_texts(pdf)
    assert len(pages) == len(sizes)
    for number, text in enumerate(pages, start=1):
        assert re.search(rf"{footer} {number} {of} {len(pages)}\b", text), \
            (name, number, text[-300:])
    text = "\n".join(pages)
    missing = [word for word in whole_words if not _token(word, text)]
    assert missing == [], (name, missing)
    # A word broken over two lines leaves both of its pieces as words of their own.
    broken = [f"{word[:k]}|{word[k:]}" for word in whole_words if len(word) >= 8
              for k in range(3, len(word) - 2)
              if _token(word[:k], text) and _token(word[k:], text)]
    assert broken == [], (name, broken)
    assert pdfa_identification(pdf) == ("2", "B"), name
    png = first_page_png(pdf, name)
    assert png.stat().st_size > 5_000
    return text


def _token(word: str, text: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text) is not None


def _words(*texts: str) -> list[str]:
    """The words a reader must see whole: four letters or more, without punctuation."""
    found = []
    for text in texts:
        for word in re.findall(r"[\wÄÖÜäöüß]{4,}", text):
            if word not in found:
                found.append(word)
    return found


def _pdf(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(data)
    return path


def _agreement(kind: str, code: str) -> tuple[Agreement, User]:
    role = "procurement_officer" if kind == "contract" else "grant_manager"
    user = new_user(role, code)
    party = new_counterparty(name="Reinigung Müller & Söhne GmbH",
                             address="Löbdergraben 12\n07743 Jena")
    values: dict[str, object] = {
        "reference": f"{code}-2026-0815-{kind}", "counterparty_id": party.id,
        "org_unit_id": unit(code).id, "status": "draft", "value": Decimal("79450.50"),
        "start_date": date(2026, 3, 1), "end_date": date(2027, 2, 28),
        "decided_on": date(2026, 2, 15), "created_at": date(2026, 2, 1),
        "updated_at": date(2026, 2, 1), "subject": "Unterhaltsreinigung der Schulgebäude",
    }
    if kind == "contract":
        values |= {"contract_kind": "services", "procedure": "open", "vat_rate": Decimal("19")}
    else:
        values |= {"programme": "Fonds Politische Bildung", "proof_due_on": date(2027, 6, 30),
                   "funding_kind": "project", "funding_method": "share"}
    agreement = Agreement(kind=kind, **values)  # type: ignore[arg-type]
    db.session.add(agreement)
    db.session.commit()
    return agreement, user


@pytest.mark.parametrize("language", ["de", "en"])
@pytest.mark.parametrize(("kind", "code"), [("contract", "KIJ"), ("grant", "FDJB")])
def test_generated_documents_render_as_a4_pdfa(app: Flask, published_clauses, client, signed_in,
                                               tmp_path: Path, kind: str, code: str,
                                               language: str) -> None:
    update_unit(unit("KIJ"), "Kommunale Immobilien Jena – Eigenbetrieb der Stadt Jena",
                "Paradiesstraße 6\n07743 Jena")
    agreement, user = _agreement(kind, code)
    address = "Löbdergraben 12\n07743 Jena"
    record = agreement_documents.generate(agreement, language, address, user)
    docx = storage().get(record.output_sha256 or "")
    assert verify(docx, _published()).status == "verbatim"

    signed_in("auditor")
    response = client.get(f"/documents/{record.id}/download.pdf")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/pdf"
    pdf = _pdf(tmp_path, f"{kind}-{language}", response.data)
    name = dict((c, n) for c, n, _k in DEMO_UNITS)[code]
    text = check_pdf(pdf, f"{kind}-{language}", _words(name, "Löbdergraben"))
    flat = re.sub(r"\s+", " ", text)
    assert (ANNEX if kind == "contract" else GRANT_ANNEX)[language] in flat
    # Line breaks of the address kept: street and town on lines of their own.
    assert re.search(r"Löbdergraben 12\s*\n\s*07743 Jena", text)
    if kind == "contract":
        assert "Paradiesstraße 6" in text and "Am Anger" not in text  # KIJ's own address
        assert "netto 79.450,50 €" in flat and "15.095,60 €" in flat and "94.546,10 €" in flat
        assert "Nettoauftragswert" in flat
    else:
        assert "Anteilfinanzierung" in flat and "Projektförderung" in flat
        assert "Fonds Politische Bildung" in flat
        assert "innerhalb eines Monats" in flat and "Widerspruch" in flat
        assert "Am Anger 15" in flat  # the unit without an address of its own: city hall


def _published() -> list:
    from clause_tracker.clauses.services import published_texts  # the test's own database
    return published_texts()


def test_the_eccar_report_renders_as_a4_pdfa(app: Flask, published_clauses, client, signed_in,
                                             csrf, tmp_path: Path) -> None:
    overview_dataset.build()
    end = date.today()
    period = f"from=2024-01-01&to={end.isoformat()}"
    signed_in("admin")
    page = f"/overview/eccar/texts?{period}"
    response = client.post(page, data={
        "csrf_token": csrf(client, page),
        "commitment_5": "Die Klausel ist in allen Vergaben angekommen.\n\nZweiter Absatz.",
    })
    assert response.status_code == 302
    response = client.get(f"/overview/eccar?{period}&format=pdf")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    pdf = _pdf(tmp_path, "eccar", response.data)
    with force_locale("de"):
        data = overview_dataset_figures(end)
        headers = [column for table in figure_tables(data) for column in table.columns]
    units = [name for code, name, _kind in DEMO_UNITS if code in ("ZVS", "KIJ", "JK")]
    text = check_pdf(pdf, "eccar", _words(*headers, *units))
    flat = re.sub(r"\s+", " ", text)
    for heading in ("Verpflichtung 2", "Verpflichtung 3", "Verpflichtung 5", "Verpflichtung 6",
                    "Verpflichtung 8", "Methode"):
        assert heading in flat, heading
    assert "Die Klausel ist in allen Vergaben angekommen." in flat
    assert re.search(r"Ereignis \d+ ", flat) and re.search(r"\b\d+:[0-9a-f]{64}\b", flat)
    assert "Q1" not in flat and not re.search(r"\b\d{4}-Q\d\b", flat)  # "1. Quartal 2025"
    assert "procurement 1.0 (de)" not in flat and "Fassung 1.0, Deutsch" in flat
    assert "(Europe/Berlin)" in flat
    # Each chart is a picture with its alternative text.
    document = Document(io.BytesIO(client.get(f"/overview/eccar?{period}").data))
    descriptions = [d.get("descr") for d in document.element.body.iter(
        "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}docPr")]
    assert len(descriptions) >= 3 and all(d and len(d) > 40 for d in descriptions)


def overview_dataset_figures(end: date):
    from clause_tracker.overview import eccar  # the app's figures, as the report uses them
    from clause_tracker.overview.metrics import Period
    return eccar.figures(Period(date(2024, 1, 1), end), end)


def test_a_clear_message_without_libreoffice(app: Flask, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a server without LibreOffice
    with force_locale("en"), pytest.raises(Exception, match="LibreOffice is not installed"):
        to_pdfa(b"PK")
