"""Verification statuses, built from really inserted documents that are then modified."""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path

from lxml import etree

from clause_tracker.clauses.texts import ClauseText, current, load_library
from clause_tracker.documents import insert_clause, verify
from clause_tracker.documents.verify import word_diff
from tests.documents.docx_builders import NS, W, clause_control, edit_document, simple_document


def inserted(clause: ClauseText) -> bytes:
    return insert_clause(simple_document("Vertragstext"), clause).data


def last_text_node(root: etree._Element) -> etree._Element:
    return clause_control(root).findall(".//w:t", NS)[-1]


def test_verbatim(clause: ClauseText, clause_texts: list) -> None:
    data = inserted(clause)
    result = verify(data, clause_texts)
    assert (result.status, result.clause_id, result.version, result.language) == (
        "verbatim", clause.clause_id, clause.version, "de"
    )
    assert result.passed and result.found_in == "content_control" and result.diff == []
    assert result.sha256 == hashlib.sha256(data).hexdigest()


def test_english_text_is_recognised(clause_texts: list) -> None:
    english = current(clause_texts, "grant", "en")
    result = verify(inserted(english), clause_texts)
    assert (result.status, result.variant, result.language) == ("verbatim", "grant", "en")


def test_formatting_only_when_runs_are_made_bold(clause: ClauseText, clause_texts: list) -> None:
    def bold(root: etree._Element) -> None:
        for run in clause_control(root).iter(f"{{{W}}}r"):
            props = etree.SubElement(run, f"{{{W}}}rPr")
            run.insert(0, props)
            etree.SubElement(props, f"{{{W}}}b")

    result = verify(edit_document(inserted(clause), bold), clause_texts)
    assert result.status == "formatting_only" and result.passed


def test_formatting_only_when_a_paragraph_is_restyled(clause: ClauseText,
                                                      clause_texts: list) -> None:
    def restyle(root: etree._Element) -> None:
        first = clause_control(root).find(".//w:p", NS)
        first.find("w:pPr/w:pStyle", NS).set(f"{{{W}}}val", "Title")

    verdict = verify(edit_document(inserted(clause), restyle), clause_texts)
    assert verdict.status == "formatting_only"


def test_deviation_when_a_word_is_edited(clause: ClauseText, clause_texts: list) -> None:
    def edit(root: etree._Element) -> None:
        t = clause_control(root).findall(".//w:t", NS)[3]
        t.text = t.text.replace("Auftragnehmers", "Lieferanten", 1)

    result = verify(edit_document(inserted(clause), edit), clause_texts)
    assert result.status == "deviation" and not result.passed
    assert result.clause_id == clause.clause_id
    changed = [(op.op, op.expected, op.actual) for op in result.diff]
    assert changed == [("replace", "Auftragnehmers", "Lieferanten")]


def test_deviation_when_a_sentence_is_deleted_outright(clause: ClauseText,
                                                       clause_texts: list) -> None:
    def drop(root: etree._Element) -> None:
        p = last_text_node(root).getparent().getparent()
        p.getparent().remove(p)

    result = verify(edit_document(inserted(clause), drop), clause_texts)
    assert result.status == "deviation"
    assert result.diff[0].op == "delete"


def test_tracked_insertion_fails_until_accepted(clause: ClauseText, clause_texts: list) -> None:
    def track(root: etree._Element) -> None:
        p = last_text_node(root).getparent().getparent()
        ins = etree.SubElement(p, f"{{{W}}}ins", {f"{{{W}}}id": "901", f"{{{W}}}author": "X",
                                                   f"{{{W}}}date": "2026-03-05T00:00:00Z"})
        run = etree.SubElement(ins, f"{{{W}}}r")
        etree.SubElement(run, f"{{{W}}}t").text = " Ausgenommen sind Subunternehmer."

    result = verify(edit_document(inserted(clause), track), clause_texts)
    assert result.status == "tracked_changes" and not result.passed
    assert any("Ausgenommen" in op.actual for op in result.diff)


def test_tracked_deletion_fails_too(clause: ClauseText, clause_texts: list) -> None:
    def track(root: etree._Element) -> None:
        t = last_text_node(root)
        run = t.getparent()
        deleted = etree.Element(f"{{{W}}}del", {f"{{{W}}}id": "902", f"{{{W}}}author": "X"})
        run.addprevious(deleted)
        deleted.append(run)
        t.tag = f"{{{W}}}delText"

    result = verify(edit_document(inserted(clause), track), clause_texts)
    assert result.status == "tracked_changes"
    assert result.diff and result.diff[0].op == "delete"


def test_tracked_move_counts_as_a_pending_change(clause: ClauseText, clause_texts: list) -> None:
    def move(root: etree._Element) -> None:
        p = last_text_node(root).getparent().getparent()
        run = p.find("w:r", NS)
        wrapper = etree.Element(f"{{{W}}}moveTo", {f"{{{W}}}id": "903", f"{{{W}}}author": "X"})
        run.addprevious(wrapper)
        wrapper.append(run)

    assert verify(edit_document(inserted(clause), move), clause_texts).status == "tracked_changes"


def test_pasted_without_the_content_control(clause: ClauseText, clause_texts: list) -> None:
    def strip(root: etree._Element) -> None:
        sdt = clause_control(root)
        for p in sdt.find("w:sdtContent", NS):
            sdt.addprevious(p)
        sdt.getparent().remove(sdt)

    result = verify(edit_document(inserted(clause), strip), clause_texts)
    assert (result.status, result.found_in) == ("verbatim", "paragraphs")
    assert any("content control" in w for w in result.warnings)


def test_pasted_without_control_and_edited(clause: ClauseText, clause_texts: list) -> None:
    def strip_and_edit(root: etree._Element) -> None:
        sdt = clause_control(root)
        for p in sdt.find("w:sdtContent", NS):
            sdt.addprevious(p)
        sdt.getparent().remove(sdt)
        ts = root.findall(".//w:t", NS)
        ts[-1].text = ts[-1].text + " Gilt nicht."

    result = verify(edit_document(inserted(clause), strip_and_edit), clause_texts)
    assert (result.status, result.found_in) == ("deviation", "paragraphs")


def test_pasted_into_a_table_cell_and_a_footer(clause: ClauseText, clause_texts: list) -> None:
    def into_table(root: etree._Element) -> None:
        sdt = clause_control(root)
        table = etree.fromstring(
            f'<w:tbl xmlns:w="{W}"><w:tr><w:tc><w:p/></w:tc></w:tr></w:tbl>'
        )
        cell = table.find(".//w:tc", NS)
        for p in sdt.find("w:sdtContent", NS):
            cell.append(copy.deepcopy(p))
        sdt.addprevious(table)
        sdt.getparent().remove(sdt)

    assert verify(edit_document(inserted(clause), into_table), clause_texts).status == "verbatim"


def test_hidden_text_does_not_count(clause: ClauseText, clause_texts: list) -> None:
    def hide(root: etree._Element) -> None:
        for run in clause_control(root).iter(f"{{{W}}}r"):
            props = etree.Element(f"{{{W}}}rPr")
            run.insert(0, props)
            etree.SubElement(props, f"{{{W}}}vanish")

    result = verify(edit_document(inserted(clause), hide), clause_texts)
    assert result.status == "deviation"
    assert any("hidden" in w for w in result.warnings)


def test_missing(clause_texts: list) -> None:
    result = verify(simple_document("Ein Vertrag ohne Klausel."), clause_texts)
    assert (result.status, result.clause_id, result.passed) == ("missing", None, False)


def test_matches_any_published_version(tiny_library_dir: Path) -> None:
    texts = load_library(tiny_library_dir)
    old = next(t for t in texts if t.version == "1.0" and t.language == "de")
    assert current(texts, "procurement", "de").version == "1.1"
    result = verify(inserted(old), texts)
    assert (result.status, result.version) == ("verbatim", "1.0")
    english = next(t for t in texts if t.language == "en")
    assert verify(inserted(english), texts).language == "en"


def test_provenance_disagreeing_with_the_text_is_reported(tiny_library_dir: Path) -> None:
    texts = load_library(tiny_library_dir)
    old, new = (next(t for t in texts if t.version == v and t.language == "de")
                for v in ("1.0", "1.1"))

    def swap(root: etree._Element) -> None:
        nodes = clause_control(root).findall(".//w:t", NS)
        nodes[-1].text = new.paragraphs[-1]

    result = verify(edit_document(inserted(old), swap), texts)
    assert (result.status, result.version) == ("verbatim", "1.1")
    assert any("provenance" in w for w in result.warnings)


def test_word_diff() -> None:
    ops = word_diff("a b c d", "a x c d e")
    assert [(o.op, o.expected, o.actual) for o in ops] == [
        ("replace", "b", "x"), ("insert", "", "e")
    ]
    assert str(ops[0]) == "…a [-b-] {+x+}"
