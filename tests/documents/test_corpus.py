"""Every document of ../shared/corpus/docx: inserted and verified, or rejected with a known code."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from clause_tracker.clauses.texts import ClauseText
from clause_tracker.documents import DocumentRejected, insert_clause, verify
from clause_tracker.documents.errors import REJECTION_CODES
from tests.documents.docx_builders import CORPUS

pytestmark = pytest.mark.slow


def corpus_files() -> list[Path]:
    return sorted(CORPUS.glob("*.docx")) if CORPUS.is_dir() else []


@pytest.fixture(scope="module")
def files() -> list[Path]:
    found = corpus_files()
    if not found:
        pytest.skip(f"corpus folder {CORPUS} is absent (clone shared/ beside the repository)")
    return found


def test_whole_corpus(files: list[Path], clause: ClauseText, clause_texts: list) -> None:
    outcomes: Counter[str] = Counter()
    failures = []
    for path in files:
        try:
            result = insert_clause(path.read_bytes(), clause)
        except DocumentRejected as rejection:
            assert rejection.code in REJECTION_CODES, f"{path.name}: {rejection.code}"
            outcomes[f"rejected:{rejection.code}"] += 1
            continue
        verdict = verify(result.data, clause_texts)
        if verdict.status != "verbatim":
            failures.append(f"{path.name}: {verdict.status} {[str(d) for d in verdict.diff[:3]]}")
        outcomes[f"{result.location.mode}:{verdict.status}"] += 1
    assert not failures, "\n".join(failures)
    assert sum(outcomes.values()) == len(files)
    assert len(files) >= 100, f"expected the 103-file corpus, found {len(files)}"
    print(dict(outcomes))
