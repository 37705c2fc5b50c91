"""Page set-up shared by the documents the city issues (contracts, grant notices, the ECCAR
report): A4 with DIN 5008 margins, the proofing language, "Seite N von M" in the footer, no
embedded thumbnail."""

from __future__ import annotations

import docx
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.section import Section
from docx.shared import Mm
from docx.text.paragraph import Paragraph


def set_language(document: docx.document.Document, language: str) -> None:
    """The proofing language of every text without its own: document defaults, Normal style
    and the settings' theme font language."""
    styles = document.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    targets = [] if defaults is None else list(defaults.iter(qn("w:rPr")))
    targets.append(document.styles["Normal"].element.get_or_add_rPr())
    for rpr in targets:
        lang = rpr.find(qn("w:lang"))
        if lang is None:
            lang = OxmlElement("w:lang")
            rpr.append(lang)
        lang.set(qn("w:val"), language)
        lang.set(qn("w:eastAsia"), language)
    theme = document.settings.element.find(qn("w:themeFontLang"))
    if theme is not None:
        theme.set(qn("w:val"), language)
    document.core_properties.language = language


def a4(section: Section, landscape: bool = False) -> None:
    """A4 with the margins of a German business letter (DIN 5008: 25 mm left, 20 mm right)."""
    short, long = Mm(210), Mm(297)
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = (long, short) if landscape else (short, long)
    section.left_margin, section.right_margin = Mm(25), Mm(20)
    section.top_margin, section.bottom_margin = Mm(25), Mm(20)
    section.header_distance, section.footer_distance = Mm(10), Mm(10)


def drop_thumbnail(document: docx.document.Document) -> None:
    """python-docx's default package carries a thumbnail of an empty page: none is better."""
    package = document.part.package
    for rid, rel in list(package.rels.items()):
        if rel.reltype == RT.THUMBNAIL:
            del package.rels[rid]


def field(paragraph: Paragraph, instruction: str) -> None:
    """A simple field (PAGE, NUMPAGES), with "1" as its text until the reader updates it."""
    simple = OxmlElement("w:fldSimple")
    simple.set(qn("w:instr"), instruction)
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    simple.append(run)
    paragraph._p.append(simple)  # type: ignore[arg-type]  # any element; types-lxml wants a CT_P


def page_footer(paragraph: Paragraph, prefix: str, page: str = "Seite", of: str = "von") -> None:
    """"<prefix> · Seite N von M", centred."""
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.add_run(f"{prefix} · {page} " if prefix else f"{page} ")
    field(paragraph, "PAGE")
    paragraph.add_run(f" {of} ")
    field(paragraph, "NUMPAGES")
