"""Returned files other than DOCX: PDFs exported by LibreOffice, scans, exact layouts."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import docx
import pypdfium2
import pytest
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from PIL import Image
from pypdf import PdfReader

from clause_tracker.clauses.texts import ClauseText
from clause_tracker.documents import insert_clause
from clause_tracker.documents.layout import join_lines, strip_running_lines, vocabulary
from clause_tracker.documents.pdf_text import page_lines, quick_page_lines
from clause_tracker.documents.returned import sniff, verify_returned
from tests.documents.docx_builders import NS, clause_control, edit_document, simple_document
from tests.documents.pdf_builders import clause_paragraphs, invisible_text_pdf, layout_pdf

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
PDFTOPPM = shutil.which("pdftoppm")
TESSERACT = shutil.which("tesseract")


def _with_running_lines() -> bytes:
    """A contract with a running header and a footer "Seite N von M" (PAGE/NUMPAGES fields)."""
    document = docx.Document()
    section = document.sections[0]
    section.header.paragraphs[0].text = "Stadt Jena – Dienstleistungsvertrag V-2026/17"
    footer = section.footer.paragraphs[0]
    footer.text = "Seite "
    for instr, tail in (("PAGE", " von "), ("NUMPAGES", "")):
        field = OxmlElement("w:fldSimple")
        field.set(qn("w:instr"), instr)
        run = OxmlElement("w:r")
        text = OxmlElement("w:t")
        text.text = "1"
        run.append(text)
        field.append(run)
        footer._p.append(field)
        if tail:
            footer.add_run(tail)
    document.add_heading("Dienstleistungsvertrag", level=1)
    for number in range(1, 25):
        document.add_paragraph(f"({number}) Der Auftragnehmer erbringt die Leistung nach den "
                               "anerkannten Regeln der Technik. " * 3)
    document.add_paragraph("Unterschrift")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _change_word(data: bytes, old: str, new: str) -> bytes:
    def edit(root: object) -> None:
        for t in clause_control(root).findall(".//w:t", NS):
            if t.text and old in t.text:
                t.text = t.text.replace(old, new, 1)
                return
        raise AssertionError(f"{old!r} not in the clause")

    return edit_document(data, edit)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory, clause: ClauseText) -> dict[str, bytes]:
    """The clause inserted into a contract, exported to PDF by LibreOffice, and the same
    with one word changed."""
    if not SOFFICE:
        pytest.skip("LibreOffice (soffice) not installed: apt-get install libreoffice-writer-nogui")
    folder = tmp_path_factory.mktemp("returned-pdf")
    issued = insert_clause(simple_document("Vertrag über Büromöbel", "Unterschrift"), clause).data
    (folder / "vertrag.docx").write_bytes(issued)
    (folder / "geaendert.docx").write_bytes(_change_word(issued, "unverzüglich", "umgehend"))
    (folder / "kopfzeilen.docx").write_bytes(insert_clause(_with_running_lines(), clause).data)
    subprocess.run(
        [SOFFICE, f"-env:UserInstallation=file://{folder / 'profile'}", "--headless",
         "--norestore", "--convert-to", "pdf", "--outdir", str(folder),
         str(folder / "vertrag.docx"), str(folder / "geaendert.docx"),
         str(folder / "kopfzeilen.docx")],
        check=True, capture_output=True, timeout=240,
    )
    return {name: (folder / f"{name}.pdf").read_bytes()
            for name in ("vertrag", "geaendert", "kopfzeilen")}


@pytest.mark.slow
@pytest.mark.xdist_group("libreoffice")
def test_libreoffice_pdf_is_verbatim(exported: dict[str, bytes], clause_texts: list) -> None:
    result = verify_returned(exported["vertrag"], clause_texts)
    assert (result.status, result.method, result.similarity) == ("verbatim", "pdf_text", 1.0)
    assert (result.clause_id, result.version, result.language) == (
        "jena-ark-procurement", "1.0", "de")
    payload = result.as_dict()
    assert {"status", "method", "clause_id", "version", "language", "sha256", "similarity",
            "diff", "signatures", "warnings"} <= set(payload)
    assert payload["signatures"] == [] and payload["diff"] == []


@pytest.mark.slow
@pytest.mark.xdist_group("libreoffice")
def test_running_header_and_page_numbers_of_libreoffice(exported: dict[str, bytes],
                                                        clause_texts: list) -> None:
    # Six pages, each with the header and "Seite N von 6"; the clause runs over three.
    result = verify_returned(exported["kopfzeilen"], clause_texts)
    assert result.status == "verbatim", [str(op) for op in result.diff]


@pytest.mark.slow
@pytest.mark.xdist_group("libreoffice")
def test_one_changed_word_is_a_deviation_naming_it(exported: dict[str, bytes],
                                                   clause_texts: list) -> None:
    result = verify_returned(exported["geaendert"], clause_texts)
    assert result.status == "deviation" and not result.passed
    assert [(op.expected, op.actual) for op in result.diff] == [("unverzüglich", "umgehend")]
    assert 0.99 < result.similarity < 1.0


@pytest.mark.slow
@pytest.mark.xdist_group("libreoffice")
def test_scan_of_the_pdf_is_an_ocr_match(exported: dict[str, bytes], clause_texts: list,
                                         tmp_path: Path) -> None:
    if not PDFTOPPM or not TESSERACT:
        pytest.skip("apt-get install poppler-utils tesseract-ocr tesseract-ocr-deu")
    (tmp_path / "in.pdf").write_bytes(exported["vertrag"])
    subprocess.run([PDFTOPPM, "-r", "300", "-gray", str(tmp_path / "in.pdf"),
                    str(tmp_path / "scan")], check=True, timeout=120)
    pages = [Image.open(p) for p in sorted(tmp_path.glob("scan*.pgm"))]
    scan = io.BytesIO()
    pages[0].save(scan, "PDF", save_all=True, append_images=pages[1:], resolution=300)
    result = verify_returned(scan.getvalue(), clause_texts)
    assert (result.method, result.status) == ("ocr", "ocr_match")
    assert result.similarity >= 0.97 and not result.passed
    assert result.as_dict()["similarity"] == round(result.similarity, 4)
    # The upper half of the first page as a PNG: the clause starts on it but goes on, so
    # it is not a match.
    png = io.BytesIO()
    pages[0].crop((0, 0, pages[0].width, pages[0].height // 2)).save(png, "PNG")
    assert sniff(png.getvalue()) == "image"
    partial = verify_returned(png.getvalue(), clause_texts)
    assert (partial.method, partial.status) == ("ocr", "deviation")
    assert 0 < partial.similarity < 0.97


def _both_readers(pdf: bytes) -> list[tuple[list[str], list[str] | None]]:
    """Each page as pypdf's exact reader and as PDFium's quick one read it."""
    document = pypdfium2.PdfDocument(pdf)
    pages = PdfReader(io.BytesIO(pdf)).pages
    return [(page_lines(page).lines, quick_page_lines(document[index]))
            for index, page in enumerate(pages)]


def test_the_quick_reader_reads_what_the_exact_one_reads(clause: ClauseText) -> None:
    pdf = layout_pdf(["Vertrag über Büromöbel", *clause_paragraphs(clause), "Unterschrift"],
                     header="Stadt Jena – Vertrag V-2026/1", page_numbers=True,
                     hyphenate=True)
    pages = _both_readers(pdf)
    assert len(pages) == 3
    for exact, quick in pages:
        assert quick == exact
    # The hyphen PDFium marks as its own stays a hyphen at the line's end, as printed.
    assert any(line.endswith("öff-") for exact, _ in pages for line in exact)


@pytest.mark.slow
@pytest.mark.xdist_group("libreoffice")
def test_the_quick_reader_reads_libreoffice_as_the_exact_one(
        exported: dict[str, bytes]) -> None:
    for name in ("vertrag", "kopfzeilen"):
        for exact, quick in _both_readers(exported[name]):
            assert quick == exact, name


def test_two_columns_and_invisible_text_go_to_the_exact_reader(clause: ClauseText) -> None:
    two_columns = _both_readers(layout_pdf(clause_paragraphs(clause), columns=2))
    assert [quick for _, quick in two_columns] == [None] * len(two_columns)
    hidden = _both_readers(invisible_text_pdf(["Verborgene Worte"], visible=["Sichtbar"] * 3))
    assert hidden == [(["Sichtbar"] * 3, None)]


def test_hyphenation_headers_and_page_numbers_are_undone(clause: ClauseText,
                                                         clause_texts: list) -> None:
    pdf = layout_pdf(["Vertrag über Büromöbel", *clause_paragraphs(clause), "Unterschrift"],
                     header="Stadt Jena – Vertrag V-2026/1", page_numbers=True,
                     hyphenate=True)
    result = verify_returned(pdf, clause_texts)
    assert result.status == "verbatim", [str(op) for op in result.diff]


def test_two_columns_are_read_column_by_column(clause: ClauseText, clause_texts: list) -> None:
    pdf = layout_pdf(clause_paragraphs(clause), columns=2, page_numbers=True)
    result = verify_returned(pdf, clause_texts)
    assert result.status == "verbatim", [str(op) for op in result.diff]


def test_changed_word_in_a_laid_out_pdf(clause: ClauseText, clause_texts: list) -> None:
    paragraphs = [p.replace("Hautfarbe", "Haarfarbe") for p in clause_paragraphs(clause)]
    result = verify_returned(layout_pdf(paragraphs, hyphenate=True), clause_texts)
    assert result.status == "deviation"
    assert [(op.expected, op.actual) for op in result.diff] == [("Hautfarbe,", "Haarfarbe,")]


def test_a_pdf_without_the_clause_is_missing(clause_texts: list) -> None:
    result = verify_returned(layout_pdf(["Vertrag über Büromöbel", "Unterschrift"]),
                             clause_texts)
    assert (result.status, result.method, result.similarity) == ("missing", "pdf_text", 0.0)


def test_layout_helpers(clause: ClauseText) -> None:
    words = vocabulary([clause.canonical])
    assert join_lines(["Diskri-", "minierung und Liefer-, Dienst-", "oder Bau\u00ad", "leistung"],
                      words) == "Diskriminierung und Liefer-, Dienst- oder Bauleistung"
    assert join_lines(["die Auf\ufb01ndung und E-", "Mail"], words) == \
        "die Auffindung und E-Mail"
    pages = [["Stadt Jena", body, f"Seite {n} von 3"]
             for n, body in enumerate(("eins", "zwei", "drei"), 1)]
    assert strip_running_lines(pages) == ["eins", "zwei", "drei"]
    assert strip_running_lines([["Kopf"], ["Rumpf", "7"]]) == ["Kopf", "Rumpf"]


def test_docx_goes_to_the_docx_check(clause: ClauseText, clause_texts: list) -> None:
    issued = insert_clause(simple_document("Text"), clause).data
    result = verify_returned(issued, clause_texts)
    assert (result.status, result.method, result.similarity) == ("verbatim", "docx", 1.0)
