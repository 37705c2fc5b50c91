"""The clause reads as the clause in any borrowed style: what a style does to numbering,
direction, frames, visibility and size is switched off on the clause's own paragraphs."""

from __future__ import annotations

import pytest
from lxml import etree

from clause_tracker.clauses.texts import ClauseText
from clause_tracker.documents import insert_clause, verify
from clause_tracker.documents.namespaces import TRANSITIONAL
from clause_tracker.documents.readable import is_neutralising
from tests.documents.docx_builders import (
    BODY_STYLE,
    NS,
    W,
    clause_control,
    document_root,
    edit_document,
    simple_document,
    styled_document,
)

HEADINGS_NUMBERED = {
    "Heading1": ('<w:numPr><w:numId w:val="1"/></w:numPr>', ""),
    "Heading2": ('<w:numPr><w:ilvl w:val="1"/><w:numId w:val="1"/></w:numPr>', ""),
}


def clause_paragraphs(data: bytes) -> list[etree._Element]:
    """The clause's paragraphs that hold text (an empty first one may carry nothing)."""
    control = clause_control(document_root(data))
    return [p for p in control.iter(f"{{{W}}}p") if "".join(p.itertext()).strip()]


def props(p: etree._Element, path: str) -> list[str]:
    """Values of w:val at `path` (e.g. 'w:pPr/w:bidi') in a paragraph."""
    return [el.get(f"{{{W}}}val") for el in p.xpath(path, namespaces=NS)]


def style_of(p: etree._Element) -> str | None:
    found = props(p, "w:pPr/w:pStyle")
    return found[0] if found else None


def inserted(clause: ClauseText, clause_texts: list, styles: dict, **kwargs: str) -> bytes:
    result = insert_clause(styled_document(styles, **kwargs), clause)
    verdict = verify(result.data, clause_texts)
    assert verdict.status == "verbatim", (verdict.status, verdict.warnings)
    return result.data


def test_heading_numbering_is_switched_off_on_the_clause(
    clause: ClauseText, clause_texts: list
) -> None:
    data = inserted(clause, clause_texts, HEADINGS_NUMBERED)
    for p in clause_paragraphs(data):
        numbered_style = style_of(p) in ("Heading1", "Heading2")
        assert props(p, "w:pPr/w:numPr/w:numId") == (["0"] if numbered_style else [])


def test_body_numbering_is_switched_off(clause: ClauseText, clause_texts: list) -> None:
    data = inserted(clause, clause_texts,
                    {BODY_STYLE: ('<w:numPr><w:numId w:val="1"/></w:numPr>', "")})
    body = [p for p in clause_paragraphs(data) if style_of(p) == BODY_STYLE]
    assert body and all(props(p, "w:pPr/w:numPr/w:numId") == ["0"] for p in body)


def test_numbering_a_style_switches_off_itself_needs_nothing(
    clause: ClauseText, clause_texts: list
) -> None:
    data = inserted(clause, clause_texts,
                    {"Heading1": ('<w:numPr><w:numId w:val="0"/></w:numPr>', "")})
    assert not any(props(p, "w:pPr/w:numPr") for p in clause_paragraphs(data))


def test_right_to_left_is_switched_off(clause: ClauseText, clause_texts: list) -> None:
    data = inserted(clause, clause_texts, {"Normal": ("<w:bidi/>", "<w:rtl/>")})
    for p in clause_paragraphs(data):
        assert props(p, "w:pPr/w:bidi") == ["0"]
        assert props(p, "w:r/w:rPr/w:rtl") == ["0"]


def test_framed_styles_are_not_borrowed(clause: ClauseText, clause_texts: list) -> None:
    frame = '<w:framePr w:wrap="around" w:vAnchor="text" w:hAnchor="page" w:x="7000" w:y="1"/>'
    data = inserted(clause, clause_texts, {"Heading1": (frame, "")})
    used = {style_of(p) for p in clause_paragraphs(data)}
    assert "Heading1" not in used
    assert "Heading2" in used  # the next level up takes the title


@pytest.mark.parametrize(
    "rpr",
    ["<w:vanish/>", "<w:strike/>", "<w:dstrike/>", "<w:caps/>", "<w:smallCaps/>"],
)
def test_hiding_striking_and_capitals_are_switched_off(
    rpr: str, clause: ClauseText, clause_texts: list
) -> None:
    name = rpr[3:-2]
    data = inserted(clause, clause_texts, {"Normal": ("", rpr)})
    for p in clause_paragraphs(data):
        assert props(p, f"w:r/w:rPr/w:{name}") == ["0"]
        assert props(p, f"w:pPr/w:rPr/w:{name}") == ["0"]  # the paragraph mark too


def test_a_base_style_hiding_text_is_found_through_the_chain(
    clause: ClauseText, clause_texts: list
) -> None:
    # Heading 1 switches strike off itself but inherits Normal's hidden text.
    data = inserted(clause, clause_texts, {"Normal": ("", "<w:vanish/><w:strike/>"),
                                           "Heading1": ("", '<w:strike w:val="0"/>')})
    title = clause_paragraphs(data)[0]
    assert style_of(title) == "Heading1"
    assert props(title, "w:r/w:rPr/w:vanish") == ["0"]


def test_an_empty_first_paragraph_carries_the_control_when_the_title_needs_its_runs(
    clause: ClauseText, clause_texts: list
) -> None:
    """LibreOffice 7.4 drops the run properties of a control's first paragraph."""
    data = inserted(clause, clause_texts, {"Normal": ("", "<w:vanish/>")})
    first = clause_control(document_root(data)).find("w:sdtContent/w:p", NS)
    assert "".join(first.itertext()) == ""
    plain = insert_clause(simple_document("Text"), clause).data
    first = clause_control(document_root(plain)).find("w:sdtContent/w:p", NS)
    assert "".join(first.itertext()) == clause.title


@pytest.mark.parametrize(
    ("rpr", "page", "switched"),
    [
        ('<w:color w:val="FFFFFF"/>', None, True),
        ('<w:color w:val="FFFF66"/>', None, True),  # yellow on white: 1.1:1
        ('<w:color w:val="1F3864"/>', None, False),  # dark blue headings stay
        ('<w:color w:val="5B9BD5"/>', None, False),  # so do light accent blues (2.9:1)
        ('<w:color w:val="BFBFBF"/>', None, True),  # but not pale grey (1.8:1)
        ('<w:color w:val="1F3864"/>', "1F3864", True),  # ... but not on a page of that blue
        ('<w:color w:val="FFFFFF"/><w:shd w:val="clear" w:fill="1F3864"/>', None, False),
        ('<w:color w:val="FFFFFF"/><w:highlight w:val="black"/>', None, False),
        ('<w:color w:val="auto" w:themeColor="background1"/>', None, False),
        ('<w:color w:themeColor="background1"/>', None, True),
    ],
)
def test_text_in_the_colour_of_its_background_is_made_auto(
    rpr: str, page: str | None, switched: bool, clause: ClauseText, clause_texts: list
) -> None:
    styles = {BODY_STYLE: ("", rpr)}
    data = inserted(clause, clause_texts, styles, **({"page_colour": page} if page else {}))
    body = [p for p in clause_paragraphs(data) if style_of(p) == BODY_STYLE]
    assert body and all(
        props(p, "w:r/w:rPr/w:color") == (["auto"] if switched else []) for p in body
    )


def test_tiny_text_gets_a_readable_size_and_the_rest_keeps_its_own(
    clause: ClauseText, clause_texts: list
) -> None:
    data = inserted(clause, clause_texts, {BODY_STYLE: ("", '<w:sz w:val="8"/><w:szCs w:val="8"/>'),
                                           "Heading1": ("", '<w:sz w:val="11"/>')})
    for p in clause_paragraphs(data):
        sizes = props(p, "w:r/w:rPr/w:sz")
        assert sizes == (["22"] if style_of(p) in (BODY_STYLE, "Heading1") else [])


def test_a_document_whose_styles_read_well_gets_no_extra_properties(clause: ClauseText) -> None:
    data = insert_clause(simple_document("Text"), clause).data
    for p in clause_paragraphs(data):
        assert p.find(f"{{{W}}}r/{{{W}}}rPr") is None
        assert [etree.QName(c).localname for c in p.findall("w:pPr/*", NS)] in ([], ["pStyle"])


def test_what_the_engine_writes_is_not_formatting_but_the_same_property_on_is(
    clause: ClauseText, clause_texts: list
) -> None:
    data = inserted(clause, clause_texts, {"Normal": ("", "<w:strike/>")})

    def strike_on(root: etree._Element) -> None:
        for strike in clause_control(root).iter(f"{{{W}}}strike"):
            strike.set(f"{{{W}}}val", "1")

    assert verify(edit_document(data, strike_on), clause_texts).status == "formatting_only"


@pytest.mark.parametrize(
    ("xml", "neutral"),
    [
        ('<w:strike w:val="0"/>', True),
        ('<w:strike w:val="false"/>', True),
        ("<w:strike/>", False),
        ('<w:color w:val="auto"/>', True),
        ('<w:color w:val="FF0000"/>', False),
        ('<w:sz w:val="22"/>', True),
        ('<w:sz w:val="40"/>', False),
        ('<w:numPr><w:ilvl w:val="0"/><w:numId w:val="0"/></w:numPr>', True),
        ('<w:numPr><w:numId w:val="3"/></w:numPr>', False),
        ('<w:bidi w:val="0"/>', True),
        ('<w:jc w:val="center"/>', False),
    ],
)
def test_is_neutralising(xml: str, neutral: bool) -> None:
    el = etree.fromstring(f'<w:x xmlns:w="{W}">{xml}</w:x>')[0]
    assert is_neutralising(el, TRANSITIONAL) is neutral
