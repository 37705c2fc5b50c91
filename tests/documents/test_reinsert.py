"""Inserting into a document that already carries the clause, in whatever shape a word
processor left it: the clause is found by its text and replaced in place, never doubled."""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from clause_tracker.clauses.texts import ClauseText, current, load_library
from clause_tracker.documents import insert_clause, preview_location, verify
from tests.documents.docx_builders import (
    NS,
    W,
    body_texts,
    clause_control,
    document_root,
    docx_with_body,
)

SECTION = '<w:sectPr><w:pgSz w:w="11906" w:h="16838"/></w:sectPr>'


def paragraph(text: str, style: str | None = None, extra_ppr: str = "") -> str:
    ppr = f'<w:pPr><w:pStyle w:val="{style}"/>{extra_ppr}</w:pPr>' if style else (
        f"<w:pPr>{extra_ppr}</w:pPr>" if extra_ppr else "")
    return f'<w:p>{ppr}<w:r><w:t xml:space="preserve">{text}</w:t></w:r></w:p>'


def plain_clause(clause: ClauseText) -> str:
    """The clause as ordinary paragraphs: what is left once the content control is gone."""
    styles = {"title": "Heading1", "heading": "Heading2", "paragraph": None}
    return "".join(paragraph(b.text, styles[b.kind]) for b in clause.blocks)


def libreoffice_shape(clause: ClauseText) -> str:
    """LibreOffice 7.4's save of a block content control: an inline control with the alias
    (no tag) around the title's text, the other paragraphs plain."""
    title, *rest = clause.blocks
    control = (
        '<w:p><w:pPr><w:pStyle w:val="Heading1"/></w:pPr><w:sdt><w:sdtPr>'
        '<w:id w:val="568408862"/><w:alias w:val="Antirassismusklausel"/></w:sdtPr>'
        f'<w:sdtContent><w:r><w:t>{title.text}</w:t></w:r></w:sdtContent></w:sdt></w:p>'
    )
    styles = {"heading": "Heading2", "paragraph": None}
    return control + "".join(paragraph(b.text, styles[b.kind]) for b in rest)


def clause_count(data: bytes, clause: ClauseText) -> int:
    root = document_root(data)
    return sum(1 for p in root.iter(f"{{{W}}}p") if "".join(p.itertext()) == clause.title)


def assert_one_clause(data: bytes, clause: ClauseText, clause_texts: list) -> None:
    assert clause_count(data, clause) == 1
    clause_control(document_root(data))  # exactly one tagged control
    verdict = verify(data, clause_texts)
    assert verdict.status == "verbatim", (verdict.status, verdict.warnings)


def test_clause_without_its_control_is_replaced_in_place(
    clause: ClauseText, clause_texts: list
) -> None:
    data = docx_with_body(paragraph("Vorher") + plain_clause(clause) + paragraph("Nachher"))
    result = insert_clause(data, clause)
    assert result.location.mode == "existing"
    assert body_texts(result.data) == ["Vorher", "[CLAUSE]", "Nachher"]
    assert_one_clause(result.data, clause, clause_texts)


def test_libreoffice_shape_is_replaced(clause: ClauseText, clause_texts: list) -> None:
    data = docx_with_body(paragraph("Vorher") + libreoffice_shape(clause)
                          + paragraph("Unterschrift"))
    result = insert_clause(data, clause)
    assert result.location.mode == "existing"
    assert body_texts(result.data) == ["Vorher", "[CLAUSE]", "Unterschrift"]
    assert_one_clause(result.data, clause, clause_texts)


def test_the_emptied_control_before_the_clause_goes_too(
    clause: ClauseText, clause_texts: list
) -> None:
    """When an empty first paragraph carried the control, LibreOffice leaves it behind."""
    remnant = ('<w:p><w:sdt><w:sdtPr><w:alias w:val="Antirassismusklausel"/></w:sdtPr>'
               "<w:sdtContent/></w:sdt></w:p>")
    data = docx_with_body(paragraph("Vorher") + remnant + plain_clause(clause))
    result = insert_clause(data, clause)
    assert body_texts(result.data) == ["Vorher", "[CLAUSE]"]
    assert_one_clause(result.data, clause, clause_texts)


def test_two_copies_become_one(clause: ClauseText, clause_texts: list) -> None:
    """What re-inserting after a LibreOffice save used to leave: the clause twice."""
    once = insert_clause(docx_with_body(paragraph("Vorher") + libreoffice_shape(clause)
                                        + paragraph("Mitte")), clause).data
    doubled = docx_with_body(
        paragraph("Vorher") + plain_clause(clause) + paragraph("Mitte") + plain_clause(clause)
    )
    for data in (once, doubled):
        result = insert_clause(data, clause)
        assert body_texts(result.data) == ["Vorher", "[CLAUSE]", "Mitte"]
        assert_one_clause(result.data, clause, clause_texts)
    assert insert_clause(doubled, clause).location.warnings == [
        "2 copies of the clause were in the document; one is left"
    ]


def test_an_older_published_version_is_replaced(tiny_library_dir: Path) -> None:
    library = load_library(tiny_library_dir)
    old = next(t for t in library if (t.version, t.language) == ("1.0", "de"))
    new = current(library, "procurement", "de")
    assert new is not None and new.version == "1.1"
    data = docx_with_body(plain_clause(old) + paragraph("Unterschrift"))
    result = insert_clause(data, new, known=library)
    assert body_texts(result.data) == ["[CLAUSE]", "Unterschrift"]
    verdict = verify(result.data, library)
    assert (verdict.status, verdict.version) == ("verbatim", "1.1")


def test_an_edited_copy_is_replaced_too(clause: ClauseText, clause_texts: list) -> None:
    blocks = list(clause.blocks)
    edited = plain_clause(clause).replace(blocks[2].text, blocks[2].text + " Zusatz.", 1)
    data = docx_with_body(edited + paragraph("Unterschrift"))
    result = insert_clause(data, clause)
    assert body_texts(result.data) == ["[CLAUSE]", "Unterschrift"]
    assert_one_clause(result.data, clause, clause_texts)


def test_a_title_alone_takes_no_text_of_the_document_with_it(clause: ClauseText) -> None:
    data = docx_with_body(paragraph(clause.title, "Heading1") + paragraph("Eigener Text")
                          + paragraph("Noch mehr eigener Text"))
    result = insert_clause(data, clause)
    assert body_texts(result.data) == ["[CLAUSE]", "Eigener Text", "Noch mehr eigener Text"]


def test_the_intact_control_is_still_replaced_as_a_control(clause: ClauseText) -> None:
    once = insert_clause(docx_with_body(paragraph("Text")), clause).data
    assert insert_clause(once, clause).location.mode == "content_control"


def test_a_section_break_and_bookmarks_in_the_old_clause_survive(
    clause: ClauseText, clause_texts: list
) -> None:
    text = plain_clause(clause)
    # A bookmark around the title, and the section ending with the clause's last paragraph.
    text = text.replace("<w:r>", '<w:bookmarkStart w:id="5" w:name="Klausel"/><w:r>', 1)
    text = text.replace("</w:r></w:p>", '</w:r><w:bookmarkEnd w:id="5"/></w:p>', 1)
    last = clause.blocks[-1].text
    text = text.replace(paragraph(last), paragraph(last, extra_ppr=SECTION))
    data = docx_with_body(text + paragraph("Nächster Abschnitt"))
    result = insert_clause(data, clause)
    root = document_root(result.data)
    control = clause_control(root)
    assert [etree.QName(m).localname for m in control.iter(f"{{{W}}}bookmarkStart",
                                                           f"{{{W}}}bookmarkEnd")] == [
        "bookmarkStart", "bookmarkEnd"]
    after = control.getnext()
    assert after.find("w:pPr/w:sectPr", NS) is not None and not "".join(after.itertext())
    assert_one_clause(result.data, clause, clause_texts)


def test_preview_names_the_old_clause_and_leaves_it_out_of_the_context(
    clause: ClauseText,
) -> None:
    data = docx_with_body(paragraph("Vorher") + plain_clause(clause) + paragraph("Nachher"))
    location = preview_location(data, known=[clause])
    assert (location.mode, location.before, location.after) == (
        "existing", ["Vorher"], ["Nachher"])


def test_other_variants_and_languages_stay(clause: ClauseText, clause_texts: list) -> None:
    """A contract may carry the subcontractor text as an annex, or the clause in English too:
    only the clause being inserted (any version of it) is replaced."""
    annex = current(clause_texts, "subcontract", "de")
    english = current(clause_texts, "procurement", "en")
    assert annex is not None and english is not None
    data = docx_with_body(plain_clause(clause) + paragraph("Anlage") + plain_clause(annex)
                          + plain_clause(english))
    result = insert_clause(data, clause, known=clause_texts)
    texts = body_texts(result.data)
    assert texts[:2] == ["[CLAUSE]", "Anlage"]
    assert annex.title in texts and english.title in texts
    assert clause_count(result.data, clause) == 1


def test_preview_looks_for_the_chosen_clause_only(clause: ClauseText, clause_texts: list) -> None:
    data = docx_with_body(paragraph("Vorher") + plain_clause(clause))
    assert preview_location(data, known=clause_texts, variant="procurement",
                            language="de").mode == "existing"
    assert preview_location(data, known=clause_texts, variant="grant",
                            language="de").mode == "end"
