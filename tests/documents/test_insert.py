"""Insertion: each way of finding the spot, style reuse, what must survive, provenance."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime

import docx
import pytest
from lxml import etree

from clause_tracker.clauses.texts import ClauseText
from clause_tracker.documents import insert_clause, preview_location, verify
from tests.documents.docx_builders import (
    CORPUS,
    NS,
    W,
    body_texts,
    clause_control,
    control_paragraph_texts,
    document_root,
    docx_with_body,
    read_part,
    rewrite,
    save,
    simple_document,
)

P = '<w:p><w:r><w:t xml:space="preserve">{}</w:t></w:r></w:p>'


def paragraph(text: str) -> str:
    return P.format(text)


def test_content_control_by_tag_is_replaced(clause: ClauseText) -> None:
    data = docx_with_body(
        paragraph("Vorher")
        + '<w:sdt><w:sdtPr><w:tag w:val="AntiRassismusKlausel"/><w:showingPlcHdr/></w:sdtPr>'
        "<w:sdtContent>" + paragraph("Hier kommt die Klausel hin") + "</w:sdtContent></w:sdt>"
        + paragraph("Nachher")
    )
    result = insert_clause(data, clause)
    assert result.location.mode == "content_control"
    assert body_texts(result.data) == ["Vorher", "[CLAUSE]", "Nachher"]
    assert control_paragraph_texts(result.data) == list(clause.paragraphs)


def test_content_control_by_alias(clause: ClauseText) -> None:
    data = docx_with_body(
        '<w:sdt><w:sdtPr><w:alias w:val="Antirassismusklausel"/><w:tag w:val="x"/></w:sdtPr>'
        "<w:sdtContent>" + paragraph("Platzhalter") + "</w:sdtContent></w:sdt>"
    )
    result = insert_clause(data, clause)
    assert result.location.mode == "content_control"
    assert "Platzhalter" not in "".join(control_paragraph_texts(result.data))


def test_inline_content_control_splits_its_paragraph(clause: ClauseText) -> None:
    data = docx_with_body(
        '<w:p><w:r><w:t xml:space="preserve">Es gilt </w:t></w:r>'
        '<w:sdt><w:sdtPr><w:tag w:val="antirassismusklausel"/></w:sdtPr><w:sdtContent>'
        "<w:r><w:t>X</w:t></w:r></w:sdtContent></w:sdt>"
        '<w:r><w:t xml:space="preserve"> und mehr.</w:t></w:r></w:p>'
    )
    result = insert_clause(data, clause)
    assert body_texts(result.data) == ["Es gilt ", "[CLAUSE]", " und mehr."]


def test_bookmark_on_an_empty_paragraph(clause: ClauseText) -> None:
    data = docx_with_body(
        paragraph("Vorher")
        + '<w:p><w:bookmarkStart w:id="7" w:name="Antirassismusklausel"/>'
        '<w:bookmarkEnd w:id="7"/></w:p>'
        + paragraph("Nachher")
    )
    result = insert_clause(data, clause)
    assert result.location.mode == "bookmark"
    assert body_texts(result.data) == ["Vorher", "[CLAUSE]", "Nachher"]
    # The bookmark survives, now marking the clause.
    control = clause_control(document_root(result.data))
    assert control.xpath(".//w:bookmarkStart/@w:name", namespaces=NS) == ["Antirassismusklausel"]


def test_bookmark_inside_text(clause: ClauseText) -> None:
    data = docx_with_body(
        '<w:p><w:r><w:t>Anfang</w:t></w:r><w:bookmarkStart w:id="1" w:name="antirassismusklausel"/>'
        '<w:bookmarkEnd w:id="1"/><w:r><w:t>Ende</w:t></w:r></w:p>'
    )
    result = insert_clause(data, clause)
    assert body_texts(result.data) == ["Anfang", "[CLAUSE]", "Ende"]


def test_placeholder_split_across_differently_formatted_runs(clause: ClauseText) -> None:
    document = docx.Document()
    document.add_paragraph("Einleitung")
    p = document.add_paragraph()
    p.add_run("Es gilt: ").bold = True
    p.add_run("{{ Anti").bold = True
    p.add_run("rassismus").italic = True
    p.add_run("KLAUSEL}}").underline = True
    p.add_run(" und mehr.").italic = True
    document.add_paragraph("Schluss")
    result = insert_clause(save(document), clause)
    assert result.location.mode == "placeholder"
    assert body_texts(result.data) == [
        "Einleitung", "Es gilt: ", "[CLAUSE]", " und mehr.", "Schluss"
    ]
    out = docx.Document(io.BytesIO(result.data))
    before, after = out.paragraphs[1], out.paragraphs[2]
    assert [(r.text, r.bold) for r in before.runs] == [("Es gilt: ", True)]
    assert [(r.text, r.italic) for r in after.runs] == [(" und mehr.", True)]
    assert "{{" not in "".join(p.text for p in out.paragraphs)


def test_placeholder_without_spaces_alone_in_its_paragraph(clause: ClauseText) -> None:
    data = simple_document("Text", "{{antirassismusklausel}}", "Danach")
    result = insert_clause(data, clause)
    assert body_texts(result.data) == ["§ 1 Gegenstand", "Text", "[CLAUSE]", "Danach"]


def test_placeholder_in_a_table_cell(clause: ClauseText) -> None:
    document = docx.Document()
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "Anlage"
    table.cell(0, 1).text = "{{ antirassismusklausel }}"
    result = insert_clause(save(document), clause)
    root = document_root(result.data)
    control = clause_control(root)
    cell = control.getparent()
    assert etree.QName(cell).localname == "tc"
    assert etree.QName(cell[-1]).localname == "p"  # Word needs a paragraph last in a cell
    assert verify(result.data, [clause]).status == "verbatim"


def test_placeholder_in_a_text_box(clause: ClauseText) -> None:
    data = docx_with_body(
        '<w:p><w:r><w:pict><v:shape id="box" style="width:300pt;height:200pt">'
        "<v:textbox><w:txbxContent>"
        '<w:p><w:r><w:t xml:space="preserve">{{ antirassismus</w:t></w:r>'
        "<w:r><w:rPr><w:b/></w:rPr><w:t>klausel }}</w:t></w:r></w:p>"
        "</w:txbxContent></v:textbox></v:shape></w:pict></w:r></w:p>"
    )
    result = insert_clause(data, clause)
    control = clause_control(document_root(result.data))
    assert etree.QName(control.getparent()).localname == "txbxContent"
    assert verify(result.data, [clause]).status == "verbatim"


def test_before_the_signature_block(clause: ClauseText) -> None:
    data = simple_document(
        "Text", "Unterschriftsberechtigung regelt § 9.", "Unterschrift des Auftraggebers"
    )
    result = insert_clause(data, clause)
    assert result.location.mode == "signature"
    assert body_texts(result.data)[-2:] == ["[CLAUSE]", "Unterschrift des Auftraggebers"]


def test_before_a_signature_table(clause: ClauseText) -> None:
    document = docx.Document()
    document.add_paragraph("Text")
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "Unterschriften"
    result = insert_clause(save(document), clause)
    assert body_texts(result.data) == ["Text", "[CLAUSE]", "[TABLE]"]


def test_at_the_end_before_the_section_properties(clause: ClauseText) -> None:
    result = insert_clause(simple_document("Nur Text"), clause)
    assert result.location.mode == "end"
    body = document_root(result.data).find(f"{{{W}}}body")
    assert [etree.QName(c).localname for c in body][-2:] == ["sdt", "sectPr"]
    first = clause_control(document_root(result.data)).find(".//w:p", NS)
    assert first.xpath("string(.//w:pStyle/@w:val)", namespaces=NS) == "Heading1"  # titled


def test_first_match_wins(clause: ClauseText) -> None:
    data = docx_with_body(
        paragraph("{{ antirassismusklausel }}")
        + '<w:sdt><w:sdtPr><w:tag w:val="antirassismusklausel"/></w:sdtPr><w:sdtContent>'
        + paragraph("alt")
        + "</w:sdtContent></w:sdt>"
        + paragraph("Unterschrift")
    )
    result = insert_clause(data, clause)
    assert result.location.mode == "content_control"


def test_the_control_is_locked_and_tagged(clause: ClauseText) -> None:
    result = insert_clause(simple_document("x"), clause)
    control = clause_control(document_root(result.data))
    props = control.find("w:sdtPr", NS)
    assert props.find("w:lock", NS).get(f"{{{W}}}val") == "sdtContentLocked"
    assert props.find("w:alias", NS).get(f"{{{W}}}val") == "Antirassismusklausel"


def test_inserting_again_replaces_the_clause(clause: ClauseText, clause_texts: list) -> None:
    once = insert_clause(simple_document("x"), clause).data
    twice = insert_clause(once, clause).data
    assert len(document_root(twice).xpath("//w:sdt", namespaces=NS)) == 1
    assert verify(twice, clause_texts).status == "verbatim"


# --- styles -------------------------------------------------------------------------


def test_uses_the_documents_own_heading_and_body_styles(clause: ClauseText) -> None:
    document = docx.Document()
    heading = document.styles.add_style("Überschrift 1", 1)  # 1: paragraph style
    body = document.styles.add_style("Vertragstext", 1)
    body.base_style = document.styles["Normal"]
    sub = document.styles.add_style("Überschrift 2", 1)
    for number in range(3):
        document.add_paragraph(f"§ {number} Abschnitt", style=heading)
        document.add_paragraph("Text des Abschnitts.", style=body)
    document.add_paragraph("Noch ein Text.", style=body)
    result = insert_clause(save(document), clause)
    assert (result.styles.title, result.styles.heading, result.styles.body) == (
        heading.style_id, sub.style_id, body.style_id
    )
    control = clause_control(document_root(result.data))
    styles = [p.xpath("string(w:pPr/w:pStyle/@w:val)", namespaces=NS)
              for p in control.iter(f"{{{W}}}p")]
    kinds = [block.kind for block in clause.blocks]
    role = {"title": heading.style_id, "heading": sub.style_id, "paragraph": body.style_id}
    assert styles == [role[k] for k in kinds]


def test_without_a_styles_part_paragraphs_are_plain(clause: ClauseText) -> None:
    path = CORPUS / (
        "python-openxml+python-docx--features_steps_test_files_sty-having-no-styles-part.docx"
    )
    if not path.exists():
        pytest.skip(f"corpus file missing: {path}")
    result = insert_clause(path.read_bytes(), clause)
    control = clause_control(document_root(result.data))
    assert control.xpath(".//w:pStyle", namespaces=NS) == []


# --- what must survive ----------------------------------------------------------------

OWN_PARTS = {"word/document.xml", "[Content_Types].xml", "_rels/.rels", "docProps/custom.xml"}


@pytest.mark.parametrize(
    "name",
    [
        "python-openxml+python-docx--features_steps_test_files_hdr-header-footer.docx",
        "python-openxml+python-docx--features_steps_test_files_num-having-numbering-part.docx",
        "mwilliamson+python-mammoth--tests_test-data_footnotes.docx",
        "mwilliamson+python-mammoth--tests_test-data_comments.docx",
        "python-openxml+python-docx--features_steps_test_files_sct-section-props.docx",
        "elapouya+python-docx-template--tests_templates_header_footer_image_tpl.docx",
    ],
)
def test_other_parts_are_byte_identical(name: str, clause: ClauseText) -> None:
    path = CORPUS / name
    if not path.exists():
        pytest.skip(f"corpus file missing: {path}")
    data = path.read_bytes()
    result = insert_clause(data, clause)
    before = zipfile.ZipFile(io.BytesIO(data))
    after = zipfile.ZipFile(io.BytesIO(result.data))
    for info in before.infolist():
        if info.filename not in OWN_PARTS:
            assert after.read(info.filename) == before.read(info.filename), info.filename
    # Section properties, tables and notes in the main part are still there.
    old, new = document_root(data), document_root(result.data)
    tags = ("sectPr", "tbl", "footnoteReference", "commentReference", "numPr", "headerReference")
    for tag in tags:
        assert len(new.findall(f".//w:{tag}", NS)) == len(old.findall(f".//w:{tag}", NS)), tag


def test_tracked_changes_elsewhere_survive(clause: ClauseText, clause_texts: list) -> None:
    data = docx_with_body(
        '<w:p><w:ins w:id="1" w:author="A" w:date="2026-01-01T00:00:00Z"><w:r><w:t>neu</w:t>'
        '</w:r></w:ins><w:del w:id="2" w:author="A" w:date="2026-01-01T00:00:00Z"><w:r>'
        "<w:delText>alt</w:delText></w:r></w:del></w:p>"
    )
    result = insert_clause(data, clause)
    root = document_root(result.data)
    assert len(root.findall(".//w:ins", NS)) == 1 and len(root.findall(".//w:del", NS)) == 1
    assert verify(result.data, clause_texts).status == "verbatim"


def test_external_relationships_are_removed_but_hyperlinks_kept(clause: ClauseText) -> None:
    document = docx.Document()
    document.add_paragraph("Text")
    data = save(document)
    settings_rels = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        b'<Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'relationships/attachedTemplate" Target="http://evil.example/t.dotm" '
        b'TargetMode="External"/></Relationships>'
    )
    settings = read_part(data, "word/settings.xml").replace(
        b"</w:settings>", b'<w:attachedTemplate r:id="rId9"/></w:settings>'
    )
    if b"xmlns:r=" not in settings[:2000]:
        settings = settings.replace(
            b"<w:settings ",
            b'<w:settings xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
            b'relationships" ',
            1,
        )
    doc_rels = read_part(data, "word/_rels/document.xml.rels").replace(
        b"</Relationships>",
        b'<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'relationships/hyperlink" Target="https://jena.de/" TargetMode="External"/>'
        b"</Relationships>",
    )
    data = rewrite(data, {"word/_rels/settings.xml.rels": settings_rels,
                          "word/settings.xml": settings,
                          "word/_rels/document.xml.rels": doc_rels})
    result = insert_clause(data, clause)
    assert any("attachedTemplate" in w and "evil.example" in w for w in result.warnings)
    assert b"evil.example" not in read_part(result.data, "word/_rels/settings.xml.rels")
    assert b"attachedTemplate" not in read_part(result.data, "word/settings.xml")
    assert b"https://jena.de/" in read_part(result.data, "word/_rels/document.xml.rels")
    docx.Document(io.BytesIO(result.data))  # still opens


def test_linked_image_is_removed_from_a_real_document(clause: ClauseText) -> None:
    path = CORPUS / "mwilliamson+python-mammoth--tests_test-data_external-picture.docx"
    if not path.exists():
        pytest.skip(f"corpus file missing: {path}")
    result = insert_clause(path.read_bytes(), clause)
    assert any("image" in w for w in result.warnings)
    assert b'TargetMode="External"' not in read_part(result.data, "word/_rels/document.xml.rels")
    assert b"r:link" not in read_part(result.data, "word/document.xml")


# --- provenance -------------------------------------------------------------------


def test_provenance_round_trip(clause: ClauseText, clause_texts: list) -> None:
    now = datetime(2026, 3, 5, 9, 30, tzinfo=UTC)
    result = insert_clause(simple_document("x"), clause, now=now)
    stamp = result.provenance
    assert (stamp.clause_id, stamp.version, stamp.language, stamp.sha256) == (
        clause.clause_id, clause.version, clause.language, clause.sha256
    )
    assert stamp.inserted_at == now and stamp.app_version
    assert verify(result.data, clause_texts).provenance == stamp
    custom = read_part(result.data, "docProps/custom.xml")
    assert b"Antirassismusklausel.SHA256" in custom and clause.sha256.encode() in custom


def test_existing_custom_properties_are_kept(clause: ClauseText) -> None:
    first = insert_clause(simple_document("x"), clause).data
    custom = read_part(first, "docProps/custom.xml").replace(
        b"</Properties>",
        b'<property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="99" name="Akte">'
        b"<vt:lpwstr>A-1</vt:lpwstr></property></Properties>",
    )
    second = insert_clause(rewrite(first, {"docProps/custom.xml": custom}), clause).data
    custom = read_part(second, "docProps/custom.xml")
    assert b'name="Akte"' in custom
    assert custom.count(b"Antirassismusklausel.SHA256") == 1


def test_strict_ooxml_document(clause: ClauseText, clause_texts: list) -> None:
    path = CORPUS / "mwilliamson+python-mammoth--tests_test-data_strict-format.docx"
    if not path.exists():
        pytest.skip(f"corpus file missing: {path}")
    result = insert_clause(path.read_bytes(), clause)
    assert b"http://purl.oclc.org/ooxml/officeDocument/customProperties" in read_part(
        result.data, "docProps/custom.xml"
    )
    verdict = verify(result.data, clause_texts)
    assert verdict.status == "verbatim" and verdict.provenance is not None


def test_preview_shows_the_surrounding_paragraphs() -> None:
    data = simple_document("Eins", "Zwei", "Vor {{ antirassismusklausel }} nach", "Drei", "Vier")
    location = preview_location(data)
    assert location.mode == "placeholder"
    assert location.before == ["Zwei", "Vor "]
    assert location.after == [" nach", "Drei"]


def test_preview_at_the_signature_block() -> None:
    location = preview_location(simple_document("Text", "Unterschriften", "Jena, den"))
    assert (location.mode, location.before[-1], location.after[0]) == (
        "signature", "Text", "Unterschriften"
    )
