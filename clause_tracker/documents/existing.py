"""A clause already in the document, found by its text: what inserting again replaces.

LibreOffice keeps a block content control around the first paragraph only and may drop
its tag, so after a round trip the clause is a run of ordinary paragraphs. Like
verification, the clause is recognised by a published title and the paragraphs after it
that match that text best (verify._region_by_title); every copy found is returned, so that
inserting again leaves exactly one clause in the document.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from lxml import etree

from clause_tracker.clauses.texts import ClauseText, canonical_text, normalize_line
from clause_tracker.documents.namespaces import Names
from clause_tracker.documents.wordml import MARKERS, has_content, in_fallback, local, paragraphs

# Window sizes tried around the text's own number of blocks (edits may split or merge).
_EXTRA = (0, -1, 1, -2, 2)
# Below this word similarity the paragraphs after a title are the document's own text (the
# title was pasted alone, or the clause rewritten): only the title is taken as the old clause.
MIN_SIMILARITY = 0.5
_Text = tuple[etree._Element, str]  # a paragraph with text, and that text normalised


def existing_clauses(
    root: etree._Element, names: Names, known: Sequence[ClauseText]
) -> list[list[etree._Element]]:
    """Each copy of a known clause in the part `root`, as the sibling elements it occupies
    (paragraphs, or content controls holding nothing else), in document order."""
    titles: dict[str, list[ClauseText]] = {}
    for text in known:
        titles.setdefault(normalize_line(text.title), []).append(text)
    if not titles:
        return []
    flat = _paragraph_texts(root, names)
    found = []
    index = 0
    while index < len(flat):
        candidates = titles.get(flat[index][1])
        if not candidates:
            index += 1
            continue
        window = _best_window(flat, index, candidates)
        blocks = _blocks([p for p, _ in window], names)
        if blocks:
            found.append(blocks)
        index += len(window)
    return found


def _paragraph_texts(root: etree._Element, names: Names) -> list[_Text]:
    """Each paragraph with text and that text (as wordml.plain_text reads it), from one pass
    over the w:t elements: walking every paragraph costs ten times more on a long document."""
    pieces: dict[etree._Element, list[str]] = {}
    run, para = names.q("r"), names.q("p")
    for t in root.iter(names.q("t")):
        up = t.getparent()
        if up is not None and up.tag == run:
            p = next(t.iterancestors(para), None)
            if p is not None:
                pieces.setdefault(p, []).append(t.text or "")
    flat = []
    for p in root.iter(para):
        if p in pieces and not in_fallback(p):
            line = normalize_line("".join(pieces[p]))
            if line:
                flat.append((p, line))
    return flat


def _best_window(flat: list[_Text], index: int, candidates: list[ClauseText]) -> list[_Text]:
    best: tuple[float, list[_Text]] | None = None
    for text in candidates:
        for extra in _EXTRA:
            size = len(text.blocks) + extra
            if size < 1:
                continue
            window = flat[index : index + size]
            score = _similarity(text.canonical, canonical_text([line for _, line in window]))
            if best is None or score > best[0]:
                best = (score, window)
            if score == 1.0:
                return window
    assert best is not None
    return best[1] if best[0] >= MIN_SIMILARITY else flat[index : index + 1]


def _similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a.split(), b.split(), autojunk=False).ratio()


def _blocks(region: list[etree._Element], names: Names) -> list[etree._Element]:
    """The siblings that hold the region's paragraphs and nothing else, first to last,
    with the empty paragraphs between them; [] when the region spans several containers
    (part in a table, part outside: not a clause this module can replace)."""
    inside = set(region)
    units: list[etree._Element] = []
    for p in region:
        unit = _outermost(p, inside, names)
        if unit not in units:
            units.append(unit)
    container = units[0].getparent()
    if container is None or any(u.getparent() is not container for u in units):
        return []
    first, last = container.index(units[0]), container.index(units[-1])
    between = list(container)[first : last + 1]
    if any(el not in units and not _blank(el, names) for el in between):
        return []
    return [el for el in between if isinstance(el.tag, str)]


def _outermost(p: etree._Element, inside: set[etree._Element], names: Names) -> etree._Element:
    """`p`, or the content control around it when that holds only region paragraphs."""
    unit = p
    for ancestor in p.iterancestors():
        if local(ancestor) == "sdtContent":
            continue
        if local(ancestor) != "sdt" or not _only(ancestor, inside, names):
            break
        unit = ancestor
    return unit


def _only(sdt: etree._Element, inside: set[etree._Element], names: Names) -> bool:
    return all(p in inside or not has_content(p, names) for p in paragraphs(sdt, names))


def _blank(el: etree._Element, names: Names) -> bool:
    """Nothing a reader sees: an empty paragraph, a bookmark, a comment (not a table)."""
    if not isinstance(el.tag, str):
        return True
    if local(el) == "p":
        return not has_content(el, names)
    return local(el) in MARKERS
