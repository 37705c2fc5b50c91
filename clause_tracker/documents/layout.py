"""Undo what page layout does to a text: running headers and footers, page numbers,
hyphenation at line ends, ligatures and soft hyphens.

Works on pages of lines in reading order, from a PDF's text layer or from OCR alike.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

# Ligatures some fonts keep as one glyph; NFKC would map these but also ², ½ and the like.
_LIGATURES = str.maketrans({
    "\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl",
    "\ufb05": "st", "\ufb06": "st",
})
_PAGE_NUMBER = re.compile(
    r"^[-–—\s]*(?:(?:seite|page|s\.)\s*)?\d{1,4}(?:\s*(?:/|von|of|aus)\s*\d{1,4})?[-–—\s]*$",
    re.IGNORECASE,
)
_DIGITS = re.compile(r"\d+")
_EDGE = 2  # lines at the top and at the bottom of a page that may be running heads
_WORD_EDGE = re.compile(r"^\W+|\W+$")
_LEADING = re.compile(r"^\W+")
_TRAILING = re.compile(r"[^\w-]+$")


def fix_glyphs(text: str) -> str:
    return text.translate(_LIGATURES)


def _key(line: str) -> str:
    return _DIGITS.sub("#", " ".join(line.split()).casefold())


def strip_running_lines(pages: list[list[str]]) -> list[str]:
    """The lines of all pages in order, without page numbers and without lines repeated at
    the top or bottom of most pages (running headers and footers, "Seite 2 von 5")."""
    pages = [[line for line in page if line.strip()] for page in pages]
    counts: Counter[str] = Counter()
    for page in pages:
        counts.update({_key(line) for line in _edges(page)})
    threshold = max(2, (len(pages) + 1) // 2)
    running = {key for key, n in counts.items() if n >= threshold}
    out: list[str] = []
    for page in pages:
        edge = set(range(min(_EDGE, len(page)))) | set(range(max(0, len(page) - _EDGE),
                                                            len(page)))
        for index, line in enumerate(page):
            if index in edge and (_PAGE_NUMBER.match(line) or _key(line) in running):
                continue
            out.append(line)
    return out


def _edges(page: list[str]) -> list[str]:
    return page[:_EDGE] + page[max(_EDGE, len(page) - _EDGE):]


def vocabulary(texts: Iterable[str]) -> frozenset[str]:
    """The words of the published texts (and those ending in a hyphen, "dienst-"), to tell a
    line-end hyphenation from a real hyphen."""
    found: set[str] = set()
    for text in texts:
        for word in text.split():
            found.add(_WORD_EDGE.sub("", word).casefold())
            head = _TRAILING.sub("", _LEADING.sub("", word)).casefold()
            if head.endswith("-"):
                found.add(head)
    return frozenset(found)


def join_lines(lines: list[str], words: frozenset[str]) -> str:
    """One text from lines, joining words hyphenated at line ends ("Diskri-" "minierung").

    A hyphen before a lower-case word is dropped unless the published texts have the word
    with its hyphen and not the joined one ("Dienst- oder"); before a capital it stays
    ("E-" "Mail").
    """
    out = ""
    for raw in lines:
        line = " ".join(fix_glyphs(raw).split())
        if not line:
            continue
        if out.endswith("\u00ad"):
            out = out[:-1] + line
        elif out.endswith("-") and len(out) > 1 and out[-2].isalpha():
            out = out + line if not line[0].islower() else _dehyphenate(out, line, words)
        else:
            out = f"{out} {line}" if out else line
    return out.replace("\u00ad", "")


def _dehyphenate(out: str, line: str, words: frozenset[str]) -> str:
    head = _LEADING.sub("", out.rsplit(" ", 1)[-1]).casefold()
    joined = _WORD_EDGE.sub("", head[:-1] + line.split(" ", 1)[0]).casefold()
    if head in words and joined not in words:
        return f"{out} {line}"
    return out[:-1] + line
