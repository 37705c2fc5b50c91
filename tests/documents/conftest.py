"""Fixtures for the DOCX engine tests (builders live in docx_builders.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from clause_tracker.clauses.texts import ClauseText, current, default_library_dir, load_library
from tests.documents.docx_builders import write_clause


@pytest.fixture(scope="session")
def clause_texts() -> list[ClauseText]:
    """The clause texts of clause_texts/, parsed (not published: no database here)."""
    texts = load_library(default_library_dir())
    if not texts:
        pytest.skip("clause_texts/ is empty")
    return texts


@pytest.fixture(scope="session")
def clause(clause_texts: list[ClauseText]) -> ClauseText:
    text = current(clause_texts, "procurement", "de")
    assert text is not None
    return text


@pytest.fixture
def tiny_library_dir(tmp_path: Path) -> Path:
    """A clause library of its own: procurement 1.0 and 1.1 (de) and 1.0 (en)."""
    folder = tmp_path / "texts"
    write_clause(folder)
    write_clause(folder, version="1.1", second="Verstöße werden nach einer Anhörung geahndet.")
    write_clause(folder, language="en", title="Test clause against discrimination",
                 second="Breaches are sanctioned after a hearing.")
    return folder
