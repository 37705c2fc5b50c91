"""Small WordprocessingML helpers shared by locate, insert, verify and generate.

All functions take the package's `Names`, so Strict and Transitional
documents go through the same code.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator

from lxml import etree

from clause_tracker.documents.namespaces import MC, W14, XML, Names

# Elements whose subtree is a different story (text boxes) or a duplicate (fallbacks).
_FALLBACK = f"{{{MC}}}Fallback"
# Markers that carry no visible content; a paragraph holding only these counts as empty.
MARKERS = frozenset(
    {
        "bookmarkStart",
        "bookmarkEnd",
        "commentRangeStart",
        "commentRangeEnd",
        "proofErr",
        "permStart",
        "permEnd",
        "moveFromRangeStart",
        "moveFromRangeEnd",
        "moveToRangeStart",
        "moveToRangeEnd",
    }
)
# Run children that are visible content even without text.
_VISIBLE = frozenset(
    {"drawing", "pict", "object", "tab", "br", "cr", "sym", "footnoteReference",
     "endnoteReference", "commentReference", "fldChar", "instrText", "ptab", "noBreakHyphen"}
)


def local(el: etree._Element | None) -> str:
    """The tag's local name; "" for comments, processing instructions and no element at all
    (so `local(el.getparent())` is "" at the root)."""
    if el is None:
        return ""
    tag = el.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def parent(el: etree._Element) -> etree._Element:
    """The parent of an element that the caller knows to sit inside the tree."""
    up = el.getparent()
    if up is None:
        raise ValueError(f"<{local(el)}> has no parent")
    return up


def in_fallback(el: etree._Element) -> bool:
    return any(a.tag == _FALLBACK for a in el.iterancestors())


def paragraphs(root: etree._Element, names: Names) -> Iterator[etree._Element]:
    """Every paragraph in document order, text-box paragraphs included, fallbacks skipped."""
    for p in root.iter(names.q("p")):
        if not in_fallback(p):
            yield p


def owned(
    p: etree._Element, names: Names, tags: set[str] | None = None
) -> Iterator[etree._Element]:
    """Descendants of `p` that belong to it: not inside a nested (text-box) paragraph."""
    stack = list(reversed(p))
    para, fallback = names.q("p"), _FALLBACK
    while stack:
        el = stack.pop()
        if not isinstance(el.tag, str) or el.tag in (para, fallback):
            continue
        if tags is None or el.tag in tags:
            yield el
        stack.extend(reversed(el))


def text_nodes(p: etree._Element, names: Names) -> list[etree._Element]:
    """The w:t elements of `p` that are visible text (not tracked deletions)."""
    t = names.q("t")
    run = names.q("r")
    return [
        el for el in owned(p, names, {t}) if (up := el.getparent()) is not None and up.tag == run
    ]


def plain_text(p: etree._Element, names: Names) -> str:
    return "".join(t.text or "" for t in text_nodes(p, names))


def has_content(p: etree._Element, names: Names) -> bool:
    """Whether a paragraph shows anything: text, drawings, fields, tabs, notes."""
    for el in owned(p, names):
        name = local(el)
        if name == "t" and (el.text or "").strip():
            return True
        if name in _VISIBLE and local(el.getparent()) == "r":
            return True
    return False


def make_t(names: Names, text: str) -> etree._Element:
    t = etree.Element(names.q("t"))
    t.text = text
    if text != text.strip() or "  " in text:
        t.set(f"{{{XML}}}space", "preserve")
    return t


def split_run(t: etree._Element, offset: int, names: Names) -> etree._Element:
    """Split the run holding `t` at `offset` characters into t; return the right-hand run."""
    run = parent(t)
    right = etree.Element(run.tag, dict(run.attrib))
    props = run.find(names.q("rPr"))
    if props is not None:
        right.append(copy.deepcopy(props))
    text = t.text or ""
    right.append(make_t(names, text[offset:]))
    for sibling in list(t.itersiblings()):
        right.append(sibling)
    t.text = text[:offset]
    if t.text != t.text.strip():
        t.set(f"{{{XML}}}space", "preserve")
    run.addnext(right)
    return right


def _shallow_copy(el: etree._Element, names: Names) -> etree._Element:
    """Same element with its attributes and property children, without its content."""
    twin = etree.Element(el.tag, dict(el.attrib))
    for attr in (f"{{{W14}}}paraId", f"{{{W14}}}textId"):
        twin.attrib.pop(attr, None)  # must stay unique in the document
    for child in el:
        if isinstance(child.tag, str) and local(child) in ("pPr", "rPr", "sdtPr", "tblPr"):
            twin.append(copy.deepcopy(child))
    return twin


def split_at(p: etree._Element, marker: etree._Element, names: Names) -> etree._Element:
    """Split paragraph `p` at `marker` (a descendant, removed); return the new right-hand paragraph.

    Every ancestor between the marker and `p` (runs, hyperlinks, tracked
    insertions) is split too, so formatting on both sides is unchanged.
    """
    carried: etree._Element | None = None
    node = marker
    while node is not p:
        up = parent(node)
        twin = _shallow_copy(up, names)
        if carried is not None:
            twin.append(carried)
        for sibling in list(node.itersiblings()):
            twin.append(sibling)
        if node is marker:
            up.remove(marker)
        carried, node = twin, up
    right = carried
    assert right is not None
    # A section break belongs to the last paragraph of the section: the right half.
    props = p.find(names.q("pPr"))
    if props is not None:
        sect = props.find(names.q("sectPr"))
        if sect is not None:
            props.remove(sect)
    p.addnext(right)
    return right


def empty_paragraph(p: etree._Element, names: Names) -> bool:
    """True when removing `p` loses nothing but markers (bookmarks, proofing marks)."""
    if has_content(p, names):
        return False
    props = p.find(names.q("pPr"))
    return props is None or props.find(names.q("sectPr")) is None


def markers_of(p: etree._Element, names: Names) -> list[etree._Element]:
    return [el for el in owned(p, names) if local(el) in MARKERS - {"proofErr"}]


def _split_text(p: etree._Element, offset: int, names: Names, *, at_start: bool) -> None:
    """Make a run boundary at character `offset` of the paragraph's visible text."""
    position = 0
    for t in text_nodes(p, names):
        length = len(t.text or "")
        if position < offset < position + length:
            split_run(t, offset - position, names)
            return
        if at_start and offset == position and length:
            if any(local(s) != "rPr" for s in t.itersiblings(preceding=True)):
                split_run(t, 0, names)  # the span must start its own run
            return
        position += length


def isolate_span(p: etree._Element, start: int, end: int, names: Names) -> list[etree._Element]:
    """Split runs so that characters [start, end) fill whole w:t elements; return those, in order.

    The text may be spread over runs with different formatting; each run keeps
    its properties, only its text is divided.
    """
    _split_text(p, end, names, at_start=False)
    _split_text(p, start, names, at_start=True)
    covered = []
    position = 0
    for t in text_nodes(p, names):
        length = len(t.text or "")
        if length and start <= position and position + length <= end:
            covered.append(t)
        position += length
    return covered


def remove_text(t: etree._Element) -> None:
    """Remove a w:t, and its run when nothing but properties remain."""
    run = parent(t)
    run.remove(t)
    if all(local(child) == "rPr" for child in run):
        parent(run).remove(run)
