"""Find the clause in running text (a PDF's text layer, OCR) and compare it word by word.

Layout leaves no reliable paragraphs, so the comparison is of words alone: the
canonical words of a published text against the words that follow its title.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from clause_tracker.clauses.texts import ClauseText, normalize_line
from clause_tracker.documents.verify import DiffOp, word_diff

_SLACK = 60  # words read past the expected end, for text added inside the clause
_TITLE_MATCH = 0.7  # how alike a damaged title (OCR) must be to count as found


@dataclass
class Match:
    text: ClauseText | None
    similarity: float
    found: list[str] = field(default_factory=list)
    diff: list[DiffOp] = field(default_factory=list)

    @property
    def exact(self) -> bool:
        return self.text is not None and self.found == self.text.canonical.split()


def _ratio(a: list[str], b: list[str]) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def _title_start(words: list[str], title: list[str]) -> int | None:
    size = len(title)
    exact = [i for i, w in enumerate(words) if w == title[0] and words[i : i + size] == title]
    if exact:
        return exact[0]
    best: tuple[float, int] | None = None
    anchors = {w: k for k, w in enumerate(title[:4])}
    for i, word in enumerate(words):
        k = anchors.get(word)
        if k is None or i - k < 0:
            continue
        score = _ratio(title, words[i - k : i - k + size])
        if score >= _TITLE_MATCH and (best is None or score > best[0]):
            best = (score, i - k)
    return best[1] if best else None


def _region(words: list[str], start: int, expected: list[str]) -> list[str]:
    window = words[start : start + len(expected) + _SLACK]
    blocks = [b for b in difflib.SequenceMatcher(None, expected, window, autojunk=False)
              .get_matching_blocks() if b.size]
    return window[: blocks[-1].b + blocks[-1].size] if blocks else []


def find_clause(text: str, library: list[ClauseText]) -> Match:
    """The published text most like what follows its title in `text`, with the diff."""
    words = normalize_line(text).split()
    best = Match(None, 0.0)
    for candidate in library:
        start = _title_start(words, normalize_line(candidate.title).split())
        if start is None:
            continue
        expected = candidate.canonical.split()
        found = _region(words, start, expected)
        score = _ratio(expected, found)
        if score > best.similarity:
            best = Match(candidate, score, found)
    if best.text is not None:
        best.diff = word_diff(" ".join(best.text.canonical.split()), " ".join(best.found))
    return best
