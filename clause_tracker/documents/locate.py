"""Where the clause goes: content control, bookmark, placeholder, signature block or the end.

`find_location` only looks; `insert.apply_location` changes the tree. The
split lets the UI preview the spot (the surrounding paragraphs) before
anything is written.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from lxml import etree

from clause_tracker.clauses.texts import ClauseText, normalize_line
from clause_tracker.documents.existing import existing_clauses
from clause_tracker.documents.namespaces import W_STRICT, W_TRANSITIONAL, Names
from clause_tracker.documents.wordml import (
    has_content,
    in_fallback,
    local,
    paragraphs,
    plain_text,
    text_nodes,
)

TAG = "antirassismusklausel"
ALIAS = "Antirassismusklausel"
BOOKMARK = "antirassismusklausel"
PLACEHOLDER = re.compile(r"\{\{\s*antirassismusklausel\s*\}\}", re.IGNORECASE)
SIGNATURE = re.compile(r"^unterschrift(en)?\b", re.IGNORECASE)
CONTEXT = 2  # paragraphs shown on each side in the preview

_BRACED = {
    w: etree.XPath("//w:t[contains(., '{')]", namespaces={"w": w})
    for w in (W_STRICT, W_TRANSITIONAL)
}
MODES = ("existing", "content_control", "bookmark", "placeholder", "signature", "end")
# Where a block-level content control may stand (it holds paragraphs).
_BLOCK_PARENTS = frozenset({"body", "tc", "txbxContent", "sdtContent", "customXml", "comment"})


@dataclass
class Location:
    """The insertion point found in a document, plus text around it for a preview."""

    mode: str  # one of MODES
    element: etree._Element | None = field(default=None, repr=False)
    span: tuple[int, int] | None = None  # placeholder: character span in the paragraph
    before: list[str] = field(default_factory=list)  # paragraphs before the spot, nearest last
    after: list[str] = field(default_factory=list)  # paragraphs after the spot, nearest first
    warnings: list[str] = field(default_factory=list)
    # "existing" and "content_control": the rest of the old clause and any further copies,
    # removed when the clause goes in (`element` is the first block of the first copy).
    replaced: list[etree._Element] = field(default_factory=list, repr=False)


def is_clause_control(sdt: etree._Element, names: Names) -> bool:
    props = sdt.find(names.q("sdtPr"))
    if props is None:
        return False
    for name in ("tag", "alias"):
        el = props.find(names.q(name))
        if el is not None and (el.get(names.q("val")) or "").strip().lower() == TAG:
            return True
    return False


def clause_controls(root: etree._Element, names: Names) -> list[etree._Element]:
    """Content controls tagged as the clause, outermost first, fallbacks skipped."""
    found = []
    for sdt in root.iter(names.q("sdt")):
        if (
            is_clause_control(sdt, names)
            and not in_fallback(sdt)
            and not any(a in found for a in sdt.iterancestors(names.q("sdt")))
        ):
            found.append(sdt)
    return found


def find_location(
    root: etree._Element,
    names: Names,
    context: bool = True,
    known: Sequence[ClauseText] = (),
) -> Location:
    """The first matching insertion point in the main document part `root`.

    A clause already there (one of the `known` texts, found by its text) comes first: it
    is replaced in place, with any further copies removed. With `context`, the paragraphs
    around the spot are collected for a preview.
    """
    body = root.find(names.q("body"))
    if body is None:
        body = root
    location = (
        _by_text(root, names, known)
        or _by_control(root, names)
        or _by_bookmark(root, names)
        or _by_placeholder(root, names)
        or _by_signature(body, names)
        or Location("end", element=body)
    )
    if context:
        _add_context(root, location, names)
    return location


def _by_text(
    root: etree._Element, names: Names, known: Sequence[ClauseText]
) -> Location | None:
    copies = [_with_remnants(blocks, names) for blocks in existing_clauses(root, names, known)]
    if not copies:
        return None
    first, *others = copies
    replaced = first[1:] + [el for blocks in others for el in blocks]
    # The control insert_clause wrote, intact: replaced as a content control, as before.
    intact = len(first) == 1 and local(first[0]) == "sdt" and is_clause_control(first[0], names)
    location = Location("content_control" if intact else "existing", element=first[0],
                        replaced=replaced)
    if others:
        location.warnings.append(
            f"{len(copies)} copies of the clause were in the document; one is left"
        )
    return location


def _with_remnants(blocks: list[etree._Element], names: Names) -> list[etree._Element]:
    """Add the empty paragraphs holding an emptied clause control just before the clause:
    what LibreOffice leaves of the control around the first (empty) paragraph."""
    found = list(blocks)
    before = found[0].getprevious()
    while before is not None and local(before) == "p" and not has_content(before, names) \
            and any(is_clause_control(sdt, names) for sdt in before.iter(names.q("sdt"))):
        found.insert(0, before)
        before = before.getprevious()
    return found


def _by_control(root: etree._Element, names: Names) -> Location | None:
    for sdt in clause_controls(root, names):
        parent = local(sdt.getparent())
        if parent in ("tbl", "tr"):
            continue  # a row or cell control cannot hold paragraphs
        return Location("content_control", element=sdt)
    return None


def _by_bookmark(root: etree._Element, names: Names) -> Location | None:
    for mark in root.iter(names.q("bookmarkStart")):
        if (mark.get(names.q("name")) or "").lower() == BOOKMARK and not in_fallback(mark):
            if local(mark.getparent()) in ("tbl", "tr"):
                continue
            return Location("bookmark", element=mark)
    return None


def _by_placeholder(root: etree._Element, names: Names) -> Location | None:
    # A placeholder starts with a brace inside some w:t: look only at those paragraphs.
    seen: set[etree._Element] = set()
    for t in _BRACED[names.w](root):
        p = next(t.iterancestors(names.q("p")), None)
        if p is None or p in seen or in_fallback(p):
            continue
        seen.add(p)
        match = PLACEHOLDER.search(plain_text(p, names))
        if match:
            return Location("placeholder", element=p, span=match.span())
    return None


def _by_signature(body: etree._Element, names: Names) -> Location | None:
    for p in paragraphs(body, names):
        if SIGNATURE.match(normalize_line(plain_text(p, names))):
            block = p
            while (up := block.getparent()) is not None and up is not body:
                block = up
            if up is body:
                return Location("signature", element=block)
    return None


# --- preview context ---------------------------------------------------------


def _add_context(root: etree._Element, location: Location, names: Names) -> None:
    """Fill `before`/`after` with the visible paragraphs around the spot."""
    order = {el: i for i, el in enumerate(root.iter())}
    anchor = location.element
    start = end = len(order)  # "end" mode: everything comes before
    if anchor is not None and location.mode != "end":
        start = order[anchor]
        end = start + sum(1 for _ in anchor.iterdescendants())
    before: list[str] = []
    after: list[str] = []
    old = {el for block in location.replaced for el in block.iter()}
    for p in paragraphs(root, names):
        if p in old:
            continue  # the old clause goes
        text = plain_text(p, names)
        position = order[p]
        if location.mode == "placeholder" and p is anchor and location.span:
            before.append(text[: location.span[0]])
            after.append(text[location.span[1] :])
        elif location.mode == "bookmark" and anchor is not None and anchor in p.iterdescendants():
            head = _text_before(p, anchor, names, order)
            before.append(head)
            after.append(text[len(head) :])
        elif position < start:
            before.append(text)
        elif position > end or location.mode in ("signature", "bookmark"):
            after.append(text)
        # paragraphs inside a replaced content control are left out
    location.before = [t for t in before if t.strip()][-CONTEXT:]
    location.after = [t for t in after if t.strip()][:CONTEXT]


def _text_before(
    p: etree._Element, mark: etree._Element, names: Names, order: dict[etree._Element, int]
) -> str:
    return "".join(t.text or "" for t in text_nodes(p, names) if order[t] < order[mark])
