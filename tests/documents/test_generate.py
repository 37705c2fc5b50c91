"""The project's own templates: fields filled safely, a missing value named."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import docx
import pytest
from lxml import etree

from clause_tracker.clauses.texts import ClauseText, current
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
    "start_date": date(2026, 3, 5),
    "end_date": date(2026, 12, 31),
    "signature_date": date(2026, 3, 1),
}
GRANT = {
    "grantor": "Stadt Jena, Fachdienst Soziales",
    "grantee": "Verein für Demokratie e. V.",
    "grantee_address": "Markt 1, 07743 Jena",
    "reference": "Z-2026/5",
    "notice_date": date(2026, 2, 1),
    "subject": "Politische Bildung",
    "value": 12000,
    "start_date": date(2026, 3, 1),
    "end_date": date(2026, 12, 31),
    "proof_due_date": date(2027, 6, 30),
    "signature_date": date(2026, 2, 1),
}


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
    assert {"reference", "subject", "value", "start_date", "end_date"} <= set(
        template_fields(data)
    )


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
    assert verify(result.data, clause_texts).status == "verbatim"
    text = all_text(result.data)
    assert "{{" not in text
    assert text.index("§ 5 Schlussbestimmungen") < text.index("Unterschriften")


def test_generated_grant_notice_with_clause_verifies(clause_texts: list) -> None:
    grant = current(clause_texts, "grant", "de")
    result = generate("grant", GRANT, grant)
    assert "12.000,00\u00a0€" in all_text(result.data)
    verdict = verify(result.data, clause_texts)
    assert (verdict.status, verdict.variant) == ("verbatim", "grant")
