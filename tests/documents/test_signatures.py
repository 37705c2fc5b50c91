"""Electronically signed PDFs: a test CA and signer made here, signed with pyHanko."""

from __future__ import annotations

import pytest

from clause_tracker.clauses.texts import ClauseText
from clause_tracker.documents.returned import verify_returned
from clause_tracker.documents.signatures import UNCHECKED
from tests.documents.pdf_builders import (
    add_note_after_signing,
    clause_paragraphs,
    layout_pdf,
    make_ca_and_signer,
    sign,
)


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory, clause: ClauseText) -> dict[str, object]:
    folder = tmp_path_factory.mktemp("signatures")
    signer, ca_path = make_ca_and_signer(folder / "trust")
    pdf = sign(layout_pdf(["Vertrag", *clause_paragraphs(clause), "Unterschrift"]), signer)
    other_signer, _ = make_ca_and_signer(folder / "other")
    return {"pdf": pdf, "trust_dir": str(ca_path.parent), "other_signer": other_signer,
            "other_dir": str(folder / "other")}


def test_signed_pdf_without_a_trust_list(signed: dict, clause_texts: list) -> None:
    result = verify_returned(signed["pdf"], clause_texts)
    assert result.status == "verbatim"
    [signature] = result.signatures
    assert signature["intact"] is True
    assert signature["signer"] == "Erika Mustermann"
    assert signature["signing_time"]
    assert signature["coverage"] == "entire_document"
    assert signature["trusted"] is None and signature["trust"] == UNCHECKED
    assert not any("MODIFIED" in w for w in result.warnings)


def test_signed_pdf_against_the_trust_list(signed: dict, clause_texts: list) -> None:
    [signature] = verify_returned(signed["pdf"], clause_texts,
                                  trust_dir=signed["trust_dir"]).signatures
    assert (signature["intact"], signature["trusted"]) == (True, True)
    # A trust list of another CA: intact, but not trusted.
    [signature] = verify_returned(signed["pdf"], clause_texts,
                                  trust_dir=signed["other_dir"]).signatures
    assert (signature["intact"], signature["trusted"]) == (True, False)


def test_content_added_after_signing_is_reported(signed: dict, clause_texts: list) -> None:
    modified = add_note_after_signing(signed["pdf"])
    assert modified.startswith(signed["pdf"])  # an incremental update
    result = verify_returned(modified, clause_texts, trust_dir=signed["trust_dir"])
    [signature] = result.signatures
    assert signature["intact"] is True  # the signed revision itself is unchanged
    assert signature["coverage"] == "modified_after_signing"
    assert result.warnings[0].startswith("MODIFIED AFTER SIGNING")
    assert result.as_dict()["signatures"][0]["coverage"] == "modified_after_signing"


def test_a_changed_byte_breaks_the_signature(signed: dict, clause_texts: list) -> None:
    data = bytearray(signed["pdf"])
    index = data.index(b"Unterschrift)")  # in the signed page content (reportlab: uncompressed)
    data[index] = ord("V")
    result = verify_returned(bytes(data), clause_texts)
    assert result.signatures and result.signatures[0]["intact"] is False
    assert any("broken" in w for w in result.warnings)


def test_a_countersigned_pdf_is_not_modified(signed: dict, clause_texts: list) -> None:
    both = sign(signed["pdf"], signed["other_signer"], field="Gegenzeichnung")
    result = verify_returned(both, clause_texts)
    assert [s["coverage"] for s in result.signatures] == ["signed_again", "entire_document"]
    assert all(s["intact"] for s in result.signatures)
    assert not any("MODIFIED" in w for w in result.warnings)
