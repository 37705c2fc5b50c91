"""Build the project's German contract and grant-notice templates (run after changing them).

    python -m clause_tracker.documents.build_templates

Writes clause_tracker/documents/templates/*.docx. Fields are `{{ name }}`;
`{{ antirassismusklausel }}` marks where the clause goes. The wording is a
working draft for the city's legal office, not legal advice.
"""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import docx
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt
from docx.text.paragraph import Paragraph

from clause_tracker.documents.generate import TEMPLATE_KINDS

OUT = Path(__file__).resolve().parent / "templates"
PLACEHOLDER = "{{ antirassismusklausel }}"

CONTRACTS = {
    "supplies": ("Vertrag über Lieferleistungen", "liefert", "VOL/B"),
    "services": ("Vertrag über Dienstleistungen", "erbringt", "VOL/B"),
    "works": ("Bauvertrag", "führt aus", "VOB/B"),
}


def _base(title: str) -> docx.document.Document:
    document = docx.Document()
    normal = document.styles["Normal"]
    normal.font.name = "Arial"
    normal.font.size = Pt(11)
    rpr = normal.element.get_or_add_rPr()
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "de-DE")
    rpr.append(lang)
    props = document.core_properties
    props.title, props.author, props.language = title, "Stadt Jena", "de-DE"
    props.created = props.modified = datetime(2026, 1, 1)
    props.revision = 1
    section = document.sections[0]
    header = section.header.paragraphs[0]
    header.text = "Stadt Jena\tAz. {{ reference }}"
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer.add_run("Seite ")
    _page_field(footer)
    return document


def _page_field(paragraph: Paragraph) -> None:
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)  # type: ignore[arg-type]  # any element; types-lxml wants a CT_P


def _signatures(document: docx.document.Document, left: str, right: str) -> None:
    document.add_heading("Unterschriften", level=1)
    table = document.add_table(rows=3, cols=2)
    cells = [
        ("Jena, den {{ signature_date }}", "Ort, Datum"),
        ("\n\n______________________________", "\n\n______________________________"),
        (left, right),
    ]
    for row, (a, b) in zip(table.rows, cells, strict=True):
        row.cells[0].text, row.cells[1].text = a, b


def contract(kind: str) -> docx.document.Document:
    title, verb, terms = CONTRACTS[kind]
    document = _base(title)
    document.add_heading(title, level=0)
    document.add_paragraph("Vergabenummer: {{ reference }}")
    document.add_paragraph("zwischen")
    document.add_paragraph("{{ contracting_authority }}, {{ contracting_authority_address }}")
    document.add_paragraph("– Auftraggeber –")
    document.add_paragraph("und")
    document.add_paragraph("{{ contractor }}, {{ contractor_address }}")
    document.add_paragraph("– Auftragnehmer –")
    sections = [
        ("§ 1 Vertragsgegenstand",
         f"Der Auftragnehmer {verb} für den Auftraggeber: {{{{ subject }}}}."),
        ("§ 2 Vergütung",
         "Die Vergütung beträgt {{ value }} (brutto). Sie wird nach vertragsgemäßer Leistung "
         "und Eingang einer prüffähigen Rechnung innerhalb von 30 Tagen gezahlt."),
        ("§ 3 Leistungszeit",
         "Die Leistung wird vom {{ start_date }} bis zum {{ end_date }} erbracht."),
        ("§ 4 Vertragsbestandteile",
         "Bestandteile des Vertrags sind in dieser Rangfolge: dieser Vertrag einschließlich der "
         "Besonderen Vertragsbedingung gegen Rassismus und Diskriminierung, die "
         f"Leistungsbeschreibung, das Angebot des Auftragnehmers und die {terms}."),
        ("§ 5 Schlussbestimmungen",
         "Änderungen und Ergänzungen bedürfen der Textform. Gerichtsstand ist Jena."),
    ]
    for heading, text in sections:
        document.add_heading(heading, level=1)
        document.add_paragraph(text)
    document.add_paragraph(PLACEHOLDER)
    _signatures(document, "für den Auftraggeber", "für den Auftragnehmer")
    return document


def grant_notice() -> docx.document.Document:
    document = _base("Zuwendungsbescheid")
    document.add_paragraph("{{ grantor }}")
    document.add_paragraph("{{ grantee }}\n{{ grantee_address }}")
    document.add_heading("Zuwendungsbescheid", level=0)
    document.add_paragraph("Aktenzeichen: {{ reference }} – Bescheid vom {{ notice_date }}")
    sections = [
        ("I. Bewilligung",
         "Auf Ihren Antrag bewilligen wir Ihnen für das Vorhaben „{{ subject }}“ eine "
         "Zuwendung in Höhe von {{ value }} als Projektförderung im Wege der Fehlbedarfs"
         "finanzierung als nicht rückzahlbaren Zuschuss."),
        ("II. Bewilligungszeitraum",
         "Der Bewilligungszeitraum beginnt am {{ start_date }} und endet am {{ end_date }}."),
        ("III. Verwendungsnachweis",
         "Der Verwendungsnachweis ist bis zum {{ proof_due_date }} vorzulegen."),
        ("IV. Nebenbestimmungen",
         "Die folgende Nebenbestimmung ist Bestandteil dieses Bescheids."),
    ]
    for heading, text in sections:
        document.add_heading(heading, level=1)
        document.add_paragraph(text)
    document.add_paragraph(PLACEHOLDER)
    document.add_heading("Rechtsbehelfsbelehrung", level=1)
    document.add_paragraph(
        "Gegen diesen Bescheid kann innerhalb eines Monats nach Bekanntgabe Widerspruch "
        "erhoben werden."
    )
    _signatures(document, "für die Stadt Jena", "Empfangsbestätigung Zuwendungsempfänger")
    return document


def build(out: Path = OUT) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for kind, (filename, _variant) in TEMPLATE_KINDS.items():
        document = grant_notice() if kind == "grant" else contract(kind)
        buffer = io.BytesIO()
        document.save(buffer)
        path = out / filename
        path.write_bytes(buffer.getvalue())
        written.append(path)
    return written


if __name__ == "__main__":
    for path in build():
        print(path)
