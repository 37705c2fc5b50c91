"""Filling the project's own German templates (contracts, grant notice) from a record.

Fields are written `{{ name }}` in the template and may be split over runs by
Word. Values are set as text nodes, so lxml escapes `<`, `&` and quotes; a
field without a value is an error that names the field. The clause
placeholder `{{ antirassismusklausel }}` is left for `insert_clause`.

Values are data, never template syntax: fields are replaced in one pass that never scans
inserted text again, and a doubled brace in a value gets a word joiner (U+2060, invisible)
between its braces, so neither this pass nor `insert_clause` (which puts the clause in
place of the first `{{ antirassismusklausel }}` it finds) can take a value for a
placeholder.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from importlib import resources
from typing import Any

from lxml import etree

from clause_tracker.clauses.texts import ClauseText
from clause_tracker.documents.errors import TemplateFieldMissing, UnknownTemplate
from clause_tracker.documents.ingest import Limits
from clause_tracker.documents.insert import InsertResult, insert_clause
from clause_tracker.documents.locate import TAG, clause_controls
from clause_tracker.documents.namespaces import Names
from clause_tracker.documents.package import Package
from clause_tracker.documents.wordml import (
    isolate_span,
    make_t,
    paragraphs,
    parent,
    plain_text,
    remove_text,
)
from clause_tracker.i18n import format_money

FIELD = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
# kind -> (file, clause variant it takes)
TEMPLATE_KINDS: dict[str, tuple[str, str]] = {
    "supplies": ("vertrag_lieferleistungen.docx", "procurement"),
    "services": ("vertrag_dienstleistungen.docx", "procurement"),
    "works": ("vertrag_bauleistungen.docx", "procurement"),
    "grant": ("zuwendungsbescheid.docx", "grant"),
}
# Characters XML 1.0 does not allow (lxml refuses them): dropped from values.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_STORIES = ("header", "footer", "footnotes", "endnotes")
# "{{" and "}}" (any run of braces) in a value: a word joiner between each pair of braces.
_DOUBLE_BRACE = re.compile(r"([{}])(?=[{}])")
WORD_JOINER = "\u2060"


# The heading of the annex that carries the clause, by variant and language of the clause.
ANNEX_HEADINGS = {
    ("procurement", "de"): "Anlage 1 – Besondere Vertragsbedingung zur Antirassismusklausel",
    ("procurement", "en"): "Annex 1 – Special condition of contract: anti-racism clause",
    ("grant", "de"): "Anlage 1 – Nebenbestimmung zur Antirassismusklausel",
    ("grant", "en"): "Annex 1 – Ancillary provision: anti-racism clause",
}


def document_values(kind: str, language: str, record: Mapping[str, Any]) -> dict[str, Any]:
    """`record` with what every template also shows: the annex's heading (in the clause's
    language) and the issuing office in the page header, unless the record names them."""
    if kind not in TEMPLATE_KINDS:
        raise UnknownTemplate(kind)
    variant = TEMPLATE_KINDS[kind][1]
    heading = ANNEX_HEADINGS.get((variant, language), ANNEX_HEADINGS[(variant, "de")])
    issuer = record.get("grantor") if kind == "grant" else record.get("contracting_authority")
    return {"annex_heading": heading, "issuer": issuer or "Stadt Jena", **record}


def percent_text(rate: Decimal) -> str:
    """19 → "19 %", 7.50 → "7,5 %" (German, as the documents are)."""
    shown = f"{rate:f}"
    if "." in shown:
        shown = shown.rstrip("0").rstrip(".")
    return shown.replace(".", ",") + " %"


def template_bytes(kind: str) -> bytes:
    if kind not in TEMPLATE_KINDS:
        raise UnknownTemplate(kind)
    folder = resources.files("clause_tracker.documents") / "templates"
    return (folder / TEMPLATE_KINDS[kind][0]).read_bytes()


def format_value(value: Any) -> str | None:
    """German display form: 1.234,56 € for amounts, 05.03.2026 for dates; None when empty."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "ja" if value else "nein"
    if isinstance(value, datetime | date):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, int | float | Decimal):
        return format_money(value, locale="de")
    text = _NOT_XML.sub("", str(value)).strip()
    return inert(text) or None


def inert(text: str) -> str:
    """`text` as shown, but with no `{{` or `}}` a placeholder search could match."""
    return _DOUBLE_BRACE.sub(r"\1" + WORD_JOINER, text)


def template_fields(data: bytes) -> list[str]:
    """Field names in a template, in document order, each once."""
    package = Package.open(data)
    found: list[str] = []
    for root in _roots(package):
        for p in paragraphs(root, package.names):
            for match in FIELD.finditer(plain_text(p, package.names)):
                name = match.group(1)
                if name.lower() != TAG and name not in found:
                    found.append(name)
    return found


def fill(data: bytes, record: Mapping[str, Any], *, limits: Limits | None = None) -> bytes:
    """`data` with every `{{ field }}` replaced by the record's value."""
    package = Package.open(data, limits)
    names = package.names
    values: dict[str, str] = {}
    for name in template_fields(data):
        value = format_value(record.get(name))
        if value is None:
            raise TemplateFieldMissing(name)
        values[name] = value
    for part, root in zip(_parts(package), _roots(package), strict=True):
        changed = False
        for p in list(paragraphs(root, names)):
            changed |= _fill_paragraph(p, values, names)
        if changed:
            package.mark_dirty(part)
    return package.to_bytes()


def generate(
    kind: str, record: Mapping[str, Any], clause: ClauseText | None = None
) -> bytes | InsertResult:
    """Fill the template of `kind`; with `clause`, also insert it (returns an InsertResult)."""
    language = clause.language if clause is not None else "de"
    document = fill(template_bytes(kind), document_values(kind, language, record))
    if clause is None:
        return document
    result = insert_clause(document, clause)
    result.data = mark_language(result.data, clause.language)
    return result


# The proofing language of a clause's text, by the clause's language (the body stays German).
PROOFING = {"de": "de-DE", "en": "en-GB"}


def mark_language(data: bytes, language: str) -> bytes:
    """The inserted clause (its content control) and the annex heading before it marked in
    the clause's language, so spelling and hyphenation follow it; `data` unchanged for a
    German clause (the template's default)."""
    tag = PROOFING.get(language)
    if tag is None or language == "de":
        return data
    package = Package.open(data)
    names = package.names
    root = package.tree(package.main_part)
    targets: list[etree._Element] = []
    for control in clause_controls(root, names):
        targets += list(control.iter(names.q("r")))
        heading = control.getprevious()
        if heading is not None and heading.tag == names.q("p"):
            targets += list(heading.iter(names.q("r")))
    for run in targets:
        properties = run.find(names.q("rPr"))
        if properties is None:
            properties = etree.Element(names.q("rPr"))
            run.insert(0, properties)
        lang = properties.find(names.q("lang"))
        if lang is None:
            lang = etree.SubElement(properties, names.q("lang"))
        lang.set(names.q("val"), tag)
    if targets:
        package.mark_dirty(package.main_part)
    return package.to_bytes()


def _parts(package: Package) -> list[str]:
    parts = [package.main_part]
    for kind in _STORIES:
        parts += [p for p in package.related_parts(package.main_part, kind)
                  if package.xml_bytes(p) is not None]
    return parts


def _roots(package: Package) -> list[etree._Element]:
    return [package.tree(part) for part in _parts(package)]


def _fill_paragraph(p: etree._Element, values: Mapping[str, str], names: Names) -> bool:
    changed = False
    skip = 0
    while True:
        text = plain_text(p, names)
        match = next(
            (m for m in FIELD.finditer(text, skip) if m.group(1).lower() != TAG), None
        )
        if match is None:
            return changed
        value = values[match.group(1)]
        covered = isolate_span(p, match.start(), match.end(), names)
        _set_text(covered[0], value, names)
        for t in covered[1:]:
            remove_text(t)
        skip = match.start() + len(value.replace("\n", ""))
        changed = True


def _set_text(t: etree._Element, value: str, names: Names) -> None:
    """Put `value` where `t` is; line breaks in the value become w:br in the same run."""
    lines = value.split("\n")
    first = make_t(names, lines[0])
    parent(t).replace(t, first)
    anchor = first
    for line in lines[1:]:
        br = etree.Element(names.q("br"))
        anchor.addnext(br)
        anchor = make_t(names, line)
        br.addnext(anchor)
