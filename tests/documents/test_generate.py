"""The project's own templates: fields filled safely, a missing value named."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from decimal import Decimal

import docx
import pytest
from lxml import etree

from clause_tracker.clauses.texts import ClauseText, current, default_library_dir, load_library
from clause_tracker.documents import TEMPLATE_KINDS, TemplateFieldMissing, generate, verify
from clause_tracker.documents.generate import fill, format_value, template_bytes, template_fields
from tests.documents.docx_builders import read_part

CONTRACT = {
    "reference": "V-2026/017",
    "contracting_authority": 'Stadt Jena <Fachdienst "Bau"> & KIJ',
    "contracting_authority_address": "Am Anger 15, 07743 Jena",
    "contractor": "Müller & Söhne <GmbH>",
    "contractor_address": "Weg 1\n07745 Jena",
    "subject": "Reinigung ']]> <w:p/>",
    "value": Decimal("1234.56"),
    "net_value": Decimal("1234.56"),
    "vat_rate": "19 %",
    "vat_amount": Decimal("234.57"),
    "gross_value": Decimal("1469.13"),
    "issuer": "Stadt Jena – KIJ",
    "annex_heading": "Anlage 1 – Besondere Vertragsbedingung zur Antirassismusklausel",
    "start_date": date(2026, 3, 5),
    "end_date": date(2026, 12, 31),
    "signature_date": date(2026, 3, 1),
}
GRANT = {
    "grantor": "Stadt Jena, Fachdienst Soziales",
    "grantee": "Verein für Demokratie e. V.",
    "grantor_address": "Am Anger 15\n07743 Jena",
    "grantee_address": "Markt 1, 07743 Jena",
    "programme": "Fonds Politische Bildung",
    "funding_kind": "Projektförderung",
    "funding_method": "Festbetragsfinanzierung",
    "remedy_authority": "Stadt Jena, Fachdienst Soziales",
    "remedy_address": "Am Anger 15\n07743 Jena",
    "reference": "Z-2026/5",
    "notice_date": date(2026, 2, 1),
    "subject": "Politische Bildung",
    "value": 12000,
    "start_date": date(2026, 3, 1),
    "end_date": date(2026, 12, 31),
    "proof_due_date": date(2027, 6, 30),
    "signature_date": date(2026, 2, 1),
}


def current_english(clause: ClauseText) -> ClauseText:
    texts = load_library(default_library_dir())
    found = current(texts, clause.variant, "en")
    assert found is not None
    return found


def all_text(data: bytes) -> str:
    document = docx.Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    parts += [c.text for t in document.tables for row in t.rows for c in row.cells]
    parts += [p.text for s in document.sections for p in s.header.paragraphs]
    return "\n".join(parts)


def test_money_and_dates_in_german_form() -> None:
    # A no-break space keeps the amount and the euro sign on one line.
    assert format_value(Decimal("1234.5")) == "1.234,50\u00a0€"
    assert format_value(1234567.891) == "1.234.567,89\u00a0€"
    assert format_value(Decimal("0.125")) == "0,13\u00a0€"  # half a cent rounds up
    assert format_value(0) == "0,00\u00a0€"
    assert format_value(date(2026, 3, 5)) == "05.03.2026"


@pytest.mark.parametrize("kind", sorted(TEMPLATE_KINDS))
def test_every_template_has_the_clause_placeholder_and_fields(kind: str) -> None:
    data = template_bytes(kind)
    assert b"antirassismusklausel" in read_part(data, "word/document.xml")
    fields = set(template_fields(data))
    assert {"reference", "subject", "start_date", "end_date", "annex_heading", "issuer"} <= fields
    if kind == "grant":
        assert {"value", "programme", "funding_kind", "funding_method", "remedy_authority",
                "remedy_address", "grantor_address"} <= fields
    else:
        assert {"net_value", "vat_rate", "vat_amount", "gross_value"} <= fields
        assert "value" not in fields  # net, VAT and gross, each named


@pytest.mark.parametrize("kind", sorted(TEMPLATE_KINDS))
def test_every_template_is_a4_german_without_a_thumbnail(kind: str) -> None:
    data = template_bytes(kind)
    body = read_part(data, "word/document.xml")
    # A4 in twentieths of a point: 210 × 297 mm.
    assert b'w:w="11906"' in body and b'w:h="16838"' in body
    assert b'w:val="de-DE"' in read_part(data, "word/styles.xml")
    assert b"en-US" not in read_part(data, "word/settings.xml")
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        assert not [n for n in package.namelist() if "thumbnail" in n]
        assert b"thumbnail" not in package.read("_rels/.rels")
        footers = [package.read(n) for n in package.namelist() if n.startswith("word/footer")]
    assert any(b"PAGE" in f and b"NUMPAGES" in f for f in footers)


def test_the_clause_is_annex_1_after_the_signatures(clause: ClauseText) -> None:
    result = generate("services", CONTRACT, clause)
    # The whole body, the clause's content control included, in document order.
    text = "".join(etree.fromstring(read_part(result.data, "word/document.xml")).itertext())
    annex = text.index("Anlage 1 – Besondere Vertragsbedingung zur Antirassismusklausel")
    assert text.index("§ 5 Schlussbestimmungen") < annex < text.index(clause.title)
    assert "(Anlage 1)" in text[:annex]  # the body refers to it
    english = generate("services", {k: v for k, v in CONTRACT.items() if k != "annex_heading"},
                       current_english(clause))
    assert "Annex 1 – Special condition of contract: anti-racism clause" in all_text(
        english.data)
    # The English clause and its heading are marked English; the German body stays German.
    body = read_part(english.data, "word/document.xml")
    assert body.count(b'w:val="en-GB"') >= 10 and b"Annex 1" in body
    heading = body[:body.index(b"Annex 1")].rsplit(b"<w:p>", 1)[-1]
    assert b'w:val="en-GB"' in heading
    assert b"en-GB" not in read_part(result.data, "word/document.xml")
    assert verify(english.data, load_library(default_library_dir())).status == "verbatim"


def test_values_are_escaped_and_formatted() -> None:
    data = fill(template_bytes("supplies"), CONTRACT)
    etree.fromstring(read_part(data, "word/document.xml"))  # still well-formed
    text = all_text(data)
    assert 'Stadt Jena <Fachdienst "Bau"> & KIJ' in text
    assert "Müller & Söhne <GmbH>" in text
    assert "Reinigung ']]> <w:p/>" in text
    assert "1.234,56\u00a0€" in text and "05.03.2026" in text and "31.12.2026" in text
    assert "Az. V-2026/017" in text  # the header is filled too
    assert "Weg 1\n07745 Jena" in text  # a line break in a value stays a line break
    assert "{{ reference }}" not in text and "{{ antirassismusklausel }}" in text


def test_a_missing_value_names_the_field() -> None:
    record = dict(CONTRACT)
    del record["contractor"]
    with pytest.raises(TemplateFieldMissing) as info:
        fill(template_bytes("services"), record)
    assert info.value.field == "contractor"
    assert "contractor" in str(info.value)


def test_an_empty_value_counts_as_missing() -> None:
    with pytest.raises(TemplateFieldMissing) as info:
        fill(template_bytes("works"), {**CONTRACT, "subject": "   "})
    assert info.value.field == "subject"


def test_generated_contract_with_clause_verifies(clause_texts: list, clause: ClauseText) -> None:
    result = generate("works", CONTRACT, clause)
    assert result.location.mode == "placeholder"
    assert "netto 1.234,56\u00a0€" in all_text(result.data)
    assert "brutto also 1.469,13\u00a0€" in all_text(result.data)
    assert verify(result.data, clause_texts).status == "verbatim"
    text = all_text(result.data)
    assert "{{" not in text
    assert text.index("§ 5 Schlussbestimmungen") < text.index("Unterschriften")


def test_generated_grant_notice_with_clause_verifies(clause_texts: list) -> None:
    grant = current(clause_texts, "grant", "de")
    result = generate("grant", GRANT, grant)
    text = all_text(result.data)
    assert "12.000,00\u00a0€" in text
    assert "als Projektförderung im Wege der Festbetragsfinanzierung" in text
    assert "„Fonds Politische Bildung“" in text
    assert "Rechtsbehelfsbelehrung" in text and "innerhalb eines Monats" in text
    assert "Stadt Jena, Fachdienst Soziales\nAm Anger 15\n07743 Jena" in text
    verdict = verify(result.data, clause_texts)
    assert (verdict.status, verdict.variant) == ("verbatim", "grant")
