"""Find the clause in running text (a PDF's text layer, OCR) and compare it word by word.

Layout leaves no reliable paragraphs, so the comparison is of words alone: the
canonical words of a published text against the words that follow its title.
"""

from __future__ import annotations

import difflib
import functools
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
        return self.text is not None and self.found == _words(self.text)


@functools.lru_cache(maxsize=64)
def _words(text: ClauseText) -> list[str]:
    return text.canonical.split()


def _ratio(a: list[str], b: list[str]) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def _exact_title(words: list[str], title: list[str]) -> int | None:
    size = len(title)
    return next((i for i, w in enumerate(words)
                 if w == title[0] and words[i : i + size] == title), None)


def _fuzzy_title(words: list[str], title: list[str]) -> int | None:
    size = len(title)
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
    titles = [normalize_line(candidate.title).split() for candidate in library]
    starts = [_exact_title(words, title) for title in titles]
    if all(start is None for start in starts):  # a damaged title (OCR, an edit): look harder
        starts = [_fuzzy_title(words, title) for title in titles]
    best = Match(None, 0.0)
    for candidate, start in zip(library, starts, strict=True):
        if start is None:
            continue
        expected = _words(candidate)
        if words[start : start + len(expected)] == expected:
            return Match(candidate, 1.0, expected)
        found = _region(words, start, expected)
        score = _ratio(expected, found)
        if score > best.similarity:
            best = Match(candidate, score, found)
    if best.text is not None:
        best.diff = word_diff(" ".join(_words(best.text)), " ".join(best.found))
    return best
