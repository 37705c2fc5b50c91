"""Outputs open in LibreOffice: convert to PDF headless and find the clause in pdftotext output."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from clause_tracker.clauses.texts import ClauseText, current, normalize_line
from clause_tracker.documents import generate, insert_clause, verify
from clause_tracker.documents.locate import clause_controls
from clause_tracker.documents.namespaces import TRANSITIONAL
from tests.documents.docx_builders import (
    BODY_STYLE,
    CORPUS,
    W,
    document_root,
    simple_document,
    styled_document,
)

# One worker converts all (under xdist): LibreOffice's profile is made once, in `office`.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("libreoffice")]

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
PDFTOTEXT = shutil.which("pdftotext")
RECORD = {
    "reference": "V-2026/1", "contracting_authority": "Stadt Jena",
    "contracting_authority_address": "Am Anger 15, 07743 Jena", "contractor": "A & B <GmbH>",
    "contractor_address": "Weg 1, 07745 Jena", "subject": "Büromöbel", "value": Decimal("99.5"),
    "net_value": Decimal("99.5"), "vat_rate": "19 %", "vat_amount": Decimal("18.91"),
    "gross_value": Decimal("118.41"),
    "start_date": date(2026, 3, 5), "end_date": date(2026, 12, 31),
    "signature_date": date(2026, 3, 1),
}


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not SOFFICE or not PDFTOTEXT:
        pytest.skip("LibreOffice (soffice) or pdftotext not installed: "
                    "apt-get install libreoffice-writer-nogui poppler-utils")
    return tmp_path_factory.mktemp("lo-profile")


def convert(profile: Path, source: Path, target_format: str, outdir: Path) -> Path:
    subprocess.run(
        [SOFFICE, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
         "--convert-to", target_format, "--outdir", str(outdir), str(source)],
        check=True, capture_output=True, timeout=180,
    )
    out = outdir / f"{source.stem}.{target_format.split(':')[0]}"
    assert out.exists(), f"LibreOffice wrote no {out}"
    return out


def convert_all(profile: Path, sources: list[Path], target_format: str, outdir: Path) -> None:
    """One LibreOffice start for many files (each start costs a few seconds)."""
    subprocess.run(
        [SOFFICE, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
         "--convert-to", target_format, "--outdir", str(outdir), *map(str, sources)],
        check=True, capture_output=True, timeout=300,
    )


def pdf_text(pdf: Path) -> str:
    text = subprocess.run([PDFTOTEXT, "-enc", "UTF-8", str(pdf), "-"], check=True,
                          capture_output=True, timeout=60).stdout.decode("utf-8")
    return re.sub(r"\s+", " ", normalize_line(text.replace("\n", " ")))


def documents(clause: ClauseText, clause_texts: list) -> dict[str, bytes]:
    docs = {
        "generated-contract": generate("services", RECORD, clause).data,
        "generated-grant": generate("grant", {
            **RECORD, "grantor": "Stadt Jena", "grantee": "Verein e. V.",
            "grantee_address": "Markt 1", "notice_date": date(2026, 2, 1),
            "grantor_address": "Am Anger 15\n07743 Jena", "programme": "Fonds",
            "funding_kind": "Projektförderung", "funding_method": "Fehlbedarfsfinanzierung",
            "remedy_authority": "Stadt Jena", "remedy_address": "Am Anger 15\n07743 Jena",
            "proof_due_date": date(2027, 6, 30),
        }, current(clause_texts, "grant", "de")).data,
        "inserted-simple": insert_clause(simple_document("Text", "Unterschrift"), clause).data,
    }
    for name in ("mwilliamson+python-mammoth--tests_test-data_strict-format.docx",
                 "mwilliamson+python-mammoth--tests_test-data_text-box.docx",
                 "python-openxml+python-docx--features_steps_test_files_hdr-header-footer.docx"):
        if (CORPUS / name).exists():
            docs[name.split("--")[1]] = insert_clause((CORPUS / name).read_bytes(), clause).data
    return docs


def test_clause_appears_in_the_pdf(
    office: Path, tmp_path: Path, clause: ClauseText, clause_texts: list
) -> None:
    for name, data in documents(clause, clause_texts).items():
        source = tmp_path / f"{name}.docx"
        source.write_bytes(data)
        pdf = convert(office, source, "pdf", tmp_path)
        text = pdf_text(pdf)
        variant_text = (current(clause_texts, "grant", "de") if name.endswith("grant")
                        else clause)
        assert normalize_line(variant_text.title) in text, f"{name}: title not in PDF"
        sentence = variant_text.paragraphs[2]
        assert normalize_line(sentence)[:80] in text, f"{name}: sentence not in PDF"


def test_a_libreoffice_round_trip_still_passes(
    office: Path, tmp_path: Path, clause: ClauseText, clause_texts: list
) -> None:
    source = tmp_path / "contract.docx"
    source.write_bytes(generate("supplies", RECORD, clause).data)
    outdir = tmp_path / "saved"
    outdir.mkdir()
    saved = convert(office, source, "docx:MS Word 2007 XML", outdir)
    verdict = verify(saved.read_bytes(), clause_texts)
    assert verdict.passed, (verdict.status, [str(d) for d in verdict.diff[:5]])


NUMBERED = '<w:numPr><w:numId w:val="1"/></w:numPr>'
# Styles that number, mirror, frame, hide or capitalise what they format (issue 12).
STYLE_CASES: dict[str, dict[str, tuple[str, str]]] = {
    "numbered-headings": {"Heading1": (NUMBERED, ""),
                          "Heading2": (NUMBERED.replace("<w:numId", '<w:ilvl w:val="1"/><w:numId'),
                                       "")},
    "numbered-body": {BODY_STYLE: (NUMBERED, "")},
    "right-to-left": {"Normal": ("<w:bidi/>", "<w:rtl/>")},
    "framed-heading": {"Heading1": ('<w:framePr w:w="2000" w:wrap="around" w:vAnchor="page" '
                                    'w:hAnchor="page" w:x="9000" w:y="14000"/>', "")},
    "hidden-and-struck": {"Normal": ("", "<w:vanish/><w:strike/><w:smallCaps/>"),
                          "Heading1": ("", '<w:strike w:val="0"/>')},
    "capitals": {"Heading2": ("", "<w:caps/>")},
}


def test_borrowed_styles_do_not_number_mirror_or_hide_the_clause(
    office: Path, tmp_path: Path, clause: ClauseText, clause_texts: list
) -> None:
    sources = []
    for name, styles in STYLE_CASES.items():
        result = insert_clause(styled_document(styles), clause)
        assert verify(result.data, clause_texts).status == "verbatim", name
        sources.append(tmp_path / f"{name}.docx")
        sources[-1].write_bytes(result.data)
    convert_all(office, sources, "pdf", tmp_path)
    # The title, every "§ N" heading and the first paragraph of text, as written.
    expected = [normalize_line(b.text) for b in clause.blocks if b.kind != "paragraph"]
    expected.append(normalize_line(clause.paragraphs[2])[:80])
    failures = []
    for source in sources:
        text = pdf_text(source.with_suffix(".pdf"))
        for line in expected:
            numbered = re.search(r"(?<![\w§(])\d+(\.\d+)*\.? " + re.escape(line), text)
            if line not in text:
                failures.append(f"{source.stem}: {line!r} not in the PDF as written")
            elif numbered:
                failures.append(f"{source.stem}: numbered: {numbered.group()[:40]!r}")
    assert not failures, "\n".join(failures)


def test_inserting_again_after_a_libreoffice_save_leaves_one_clause(
    office: Path, tmp_path: Path, clause: ClauseText, clause_texts: list
) -> None:
    """LibreOffice keeps the control around the first paragraph only (and may drop its tag):
    the clause is found by its text and replaced, not added a second time."""
    sources = {
        "simple": simple_document("Text", "Unterschrift"),
        "contract": generate("services", RECORD, clause).data,
        **{name: styled_document(styles) for name, styles in STYLE_CASES.items()},
    }
    saved = tmp_path / "saved"
    saved.mkdir()
    paths = []
    for name, data in sources.items():
        paths.append(tmp_path / f"{name}.docx")
        paths[-1].write_bytes(insert_clause(data, clause).data)
    convert_all(office, paths, "docx:MS Word 2007 XML", saved)
    failures = []
    for path in paths:
        result = insert_clause((saved / path.name).read_bytes(), clause, known=clause_texts)
        root = document_root(result.data)
        titles = sum(1 for p in root.iter(f"{{{W}}}p") if "".join(p.itertext()) == clause.title)
        verdict = verify(result.data, clause_texts)
        if titles != 1 or len(clause_controls(root, TRANSITIONAL)) != 1:
            failures.append(f"{path.stem}: {titles} clause titles")
        if verdict.status != "verbatim":
            failures.append(f"{path.stem}: {verdict.status} {verdict.warnings}")
    assert not failures, "\n".join(failures)
