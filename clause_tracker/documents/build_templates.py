"""Build the project's German contract and grant-notice templates (run after changing them).

    python -m clause_tracker.documents.build_templates

Writes clause_tracker/documents/templates/*.docx: A4, German (de-DE) proofing language, no
embedded thumbnail, "Seite N von M" in the footer. Fields are `{{ name }}`; the clause goes
where `{{ antirassismusklausel }}` stands: on a page of its own after the signatures, as
Anlage 1 under the heading `{{ annex_heading }}`, so the clause's own §§ are the annex's and
the body refers to them as "Anlage 1". The wording is a working draft for the city's legal
office, not legal advice.
"""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import docx
from docx.enum.text import WD_BREAK
from docx.oxml import OxmlElement
from docx.shared import Pt

from clause_tracker.documents.docx_pages import a4, drop_thumbnail, page_footer, set_language
from clause_tracker.documents.generate import TEMPLATE_KINDS

OUT = Path(__file__).resolve().parent / "templates"
PLACEHOLDER = "{{ antirassismusklausel }}"
LANGUAGE = "de-DE"

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
    set_language(document, LANGUAGE)
    drop_thumbnail(document)
    props = document.core_properties
    props.title, props.author = title, "Stadt Jena"
    props.created = props.modified = datetime(2026, 1, 1)
    props.revision = 1
    section = document.sections[0]
    a4(section)
    section.header.paragraphs[0].text = "{{ issuer }} · Az. {{ reference }}"
    page_footer(section.footer.paragraphs[0], title)
    return document


def _signatures(document: docx.document.Document, left: str, right: str) -> None:
    document.add_heading("Unterschriften", level=1)
    table = document.add_table(rows=3, cols=2)
    cells = [
        ("Jena, den {{ signature_date }}", "Ort, Datum"),
        ("\n\n______________________________", "\n\n______________________________"),
        (left, right),
    ]
    for index, (row, (a, b)) in enumerate(zip(table.rows, cells, strict=True)):
        row.cells[0].text, row.cells[1].text = a, b
        # The block stays on one page with its heading: rows unsplit, each kept with the next.
        properties = row._tr.get_or_add_trPr()
        cant_split = OxmlElement("w:cantSplit")
        properties.append(cant_split)
        if index < len(cells) - 1:
            for cell in row.cells:
                for paragraph in cell.paragraphs:
                    paragraph.paragraph_format.keep_with_next = True


def _annex(document: docx.document.Document) -> None:
    """A page break, the annex's heading and the clause placeholder."""
    document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    document.add_heading("{{ annex_heading }}", level=1)
    document.add_paragraph(PLACEHOLDER)


def _sections(document: docx.document.Document, sections: list[tuple[str, list[str]]]) -> None:
    for heading, paragraphs in sections:
        document.add_heading(heading, level=1)
        for text in paragraphs:
            document.add_paragraph(text)


def contract(kind: str) -> docx.document.Document:
    title, verb, terms = CONTRACTS[kind]
    document = _base(title)
    document.add_heading(title, level=0)
    document.add_paragraph("Vergabenummer: {{ reference }}")
    document.add_paragraph("zwischen")
    document.add_paragraph("{{ contracting_authority }}\n{{ contracting_authority_address }}")
    document.add_paragraph("– Auftraggeber –")
    document.add_paragraph("und")
    document.add_paragraph("{{ contractor }}\n{{ contractor_address }}")
    document.add_paragraph("– Auftragnehmer –")
    _sections(document, [
        ("§ 1 Vertragsgegenstand",
         [f"Der Auftragnehmer {verb} für den Auftraggeber: {{{{ subject }}}}."]),
        ("§ 2 Vergütung", [
            "(1) Die Vergütung beträgt netto {{ net_value }} (Nettoauftragswert), zuzüglich "
            "{{ vat_rate }} Umsatzsteuer in Höhe von {{ vat_amount }}, brutto also "
            "{{ gross_value }}.",
            "(2) Die Vertragsstrafe nach Anlage 1 wird auf den Nettoauftragswert (Absatz 1) "
            "berechnet.",
            "(3) Die Vergütung wird nach vertragsgemäßer Leistung und Eingang einer prüffähigen "
            "Rechnung innerhalb von 30 Tagen gezahlt."]),
        ("§ 3 Leistungszeit",
         ["Die Leistung wird vom {{ start_date }} bis zum {{ end_date }} erbracht."]),
        ("§ 4 Vertragsbestandteile", [
            "(1) Bestandteile des Vertrags sind in dieser Rangfolge: dieser Vertrag, die "
            "Besondere Vertragsbedingung gegen Rassismus und Diskriminierung (Anlage 1), die "
            f"Leistungsbeschreibung, das Angebot des Auftragnehmers und die {terms}.",
            "(2) Verweise in Anlage 1 auf Paragraphen (etwa „§ 5 Abs. 2“) meinen die "
            "Paragraphen der Anlage 1, nicht die dieses Vertrags."]),
        ("§ 5 Schlussbestimmungen",
         ["Änderungen und Ergänzungen bedürfen der Textform. Gerichtsstand ist Jena."]),
    ])
    document.add_paragraph("Anlage 1: Besondere Vertragsbedingung gegen Rassismus und "
                           "Diskriminierung")
    _signatures(document, "für den Auftraggeber", "für den Auftragnehmer")
    _annex(document)
    return document


def grant_notice() -> docx.document.Document:
    document = _base("Zuwendungsbescheid")
    document.add_paragraph("{{ grantor }}\n{{ grantor_address }}")
    document.add_paragraph("{{ grantee }}\n{{ grantee_address }}")
    document.add_heading("Zuwendungsbescheid", level=0)
    document.add_paragraph("Aktenzeichen: {{ reference }} – Bescheid vom {{ notice_date }}")
    _sections(document, [
        ("I. Bewilligung", [
            "Auf Ihren Antrag bewilligen wir Ihnen aus dem Programm „{{ programme }}“ für das "
            "Vorhaben „{{ subject }}“ eine Zuwendung in Höhe von höchstens {{ value }} als "
            "{{ funding_kind }} im Wege der {{ funding_method }} als nicht rückzahlbaren "
            "Zuschuss."]),
        ("II. Bewilligungszeitraum",
         ["Der Bewilligungszeitraum beginnt am {{ start_date }} und endet am {{ end_date }}."]),
        ("III. Verwendungsnachweis",
         ["Der Verwendungsnachweis ist bis zum {{ proof_due_date }} vorzulegen."]),
        ("IV. Nebenbestimmungen", [
            "Die Nebenbestimmung gegen Rassismus und Diskriminierung (Anlage 1) ist "
            "Bestandteil dieses Bescheids. Paragraphen, auf die Anlage 1 verweist, sind solche "
            "der Anlage 1."]),
        ("Rechtsbehelfsbelehrung", [
            "Gegen diesen Bescheid kann innerhalb eines Monats nach seiner Bekanntgabe "
            "Widerspruch erhoben werden. Der Widerspruch ist schriftlich, in elektronischer "
            "Form nach § 3a Abs. 2 des Verwaltungsverfahrensgesetzes oder zur Niederschrift "
            "einzulegen bei:",
            "{{ remedy_authority }}\n{{ remedy_address }}"]),
    ])
    _signatures(document, "für die Stadt Jena", "Empfangsbestätigung Zuwendungsempfänger")
    _annex(document)
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
