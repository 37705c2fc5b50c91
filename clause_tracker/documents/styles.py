"""The document's own heading and body styles, so the clause looks like the rest of it."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from lxml import etree

from clause_tracker.documents.namespaces import Names
from clause_tracker.documents.wordml import has_content

# Built-in names are stored in English ("heading 1"); some writers store localised ones.
_HEADING_NAME = re.compile(r"^(heading|überschrift|titre|titolo|kop)\s*(\d)$", re.IGNORECASE)
_HEADING_ID = re.compile(r"^(heading|berschrift|überschrift)(\d)$", re.IGNORECASE)
_NOT_BODY = re.compile(
    r"(list|liste|title|titel|subtitle|caption|toc|verzeichnis|header|footer|kopf|fuß|"
    r"quote|zitat|footnote|fußnote|signature|unterschrift|table|tabelle)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ClauseStyles:
    """Paragraph style ids for the clause's title, headings and paragraphs (None: plain)."""

    title: str | None = None
    heading: str | None = None
    body: str | None = None


@dataclass(frozen=True)
class _Style:
    style_id: str
    name: str
    based_on: str | None
    outline: int | None


def _read_styles(styles_root: etree._Element | None, names: Names) -> dict[str, _Style]:
    if styles_root is None:
        return {}
    val = names.q("val")
    found = {}
    for el in styles_root.iterfind(names.q("style")):
        if el.get(names.q("type")) != "paragraph":
            continue
        style_id = el.get(names.q("styleId")) or ""
        name_el = el.find(names.q("name"))
        based = el.find(names.q("basedOn"))
        outline = el.find(f"{names.q('pPr')}/{names.q('outlineLvl')}")
        found[style_id] = _Style(
            style_id=style_id,
            name=name_el.get(val, "") if name_el is not None else "",
            based_on=based.get(val) if based is not None else None,
            outline=int(outline.get(val, "9")) if outline is not None else None,
        )
    return found


def _own_level(style: _Style) -> int | None:
    for pattern, text in ((_HEADING_NAME, style.name), (_HEADING_ID, style.style_id)):
        match = pattern.match(text.strip())
        if match:
            return int(match.group(2))
    return None


def heading_level(style_id: str | None, styles: dict[str, _Style]) -> int | None:
    """1-based heading level of a paragraph style, following basedOn a few steps."""
    seen = 0
    while style_id and style_id in styles and seen < 10:
        style = styles[style_id]
        level = _own_level(style)
        if level is not None:
            return level
        if style.outline is not None and style.outline < 9:
            return style.outline + 1
        style_id, seen = style.based_on, seen + 1
    return None


def choose_styles(
    document: etree._Element, styles_root: etree._Element | None, names: Names
) -> ClauseStyles:
    """Pick the heading level the document uses most for its sections, and its usual body style."""
    styles = _read_styles(styles_root, names)
    if not styles:
        return ClauseStyles()
    body = document.find(names.q("body"))
    levels: Counter[int] = Counter()
    bodies: Counter[str | None] = Counter()
    style_of_level: dict[int, str] = {}
    for p in (body if body is not None else document).iterchildren(names.q("p")):
        ref = p.find(f"{names.q('pPr')}/{names.q('pStyle')}")
        style_id = ref.get(names.q("val")) if ref is not None else None
        if style_id is not None and style_id not in styles:
            style_id = None
        level = heading_level(style_id, styles)
        if level is not None:
            levels[level] += 1
            style_of_level.setdefault(level, style_id or "")
        elif has_content(p, names) and p.find(f"{names.q('pPr')}/{names.q('numPr')}") is None:
            name = styles[style_id].name if style_id else ""
            if not _NOT_BODY.search(name or style_id or ""):
                bodies[style_id] += 1
    for style in styles.values():
        # Defined but unused headings: only styles that are headings by their own name.
        level = _own_level(style)
        if level is not None:
            style_of_level.setdefault(level, style.style_id)
    if levels:
        # Most used level; on a tie the higher-ranking (smaller) one.
        title_level = min(levels, key=lambda lvl: (-levels[lvl], lvl))
    elif style_of_level:
        title_level = min(style_of_level)
    else:
        title_level = None
    title = style_of_level.get(title_level) if title_level else None
    heading = style_of_level.get(title_level + 1, title) if title_level else None
    body_style = max(bodies, key=lambda s: (bodies[s], s is None)) if bodies else None
    return ClauseStyles(title=title, heading=heading, body=body_style)
