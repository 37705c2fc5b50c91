"""The document's own heading and body styles, so the clause looks like the rest of it."""

from __future__ import annotations

import html
import re
from collections import Counter
from dataclasses import dataclass

from lxml import etree

from clause_tracker.documents.errors import DocumentRejected
from clause_tracker.documents.ingest import parse_xml
from clause_tracker.documents.namespaces import Names

# Built-in names are stored in English ("heading 1"); some writers store localised ones.
_HEADING_NAME = re.compile(r"^(heading|überschrift|titre|titolo|kop)\s*(\d)$", re.IGNORECASE)
_HEADING_ID = re.compile(r"^(heading|berschrift|überschrift)(\d)$", re.IGNORECASE)
_NOT_BODY = re.compile(
    r"(list|liste|title|titel|subtitle|caption|toc|verzeichnis|header|footer|kopf|fuß|"
    r"quote|zitat|footnote|fußnote|signature|unterschrift|table|tabelle)",
    re.IGNORECASE,
)


_TEXT = etree.XPath("string()")


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
    default: bool = False  # the document's default paragraph style (what "no style" means)
    framed: bool = False  # its own pPr positions it in a frame (w:framePr)
    span: tuple[int, int] = (0, 0)  # where the whole <w:style> element is in styles.xml


def _read_styles(styles_xml: bytes | None, names: Names) -> dict[str, _Style]:
    """Paragraph styles by id, read with a scanner instead of a full parse.

    styles.xml is often the largest part (350 KiB in Word's default template)
    and parsing it costs more than rewriting the whole package; we need only
    four values per style. The part has passed the ingest checks already.
    """
    if not styles_xml:
        return {}
    prefix = _prefix(styles_xml, names.w)
    if prefix is None:
        return {}
    p = re.escape(prefix)
    start = re.compile(rb"<" + p + rb"style[\s>/]")
    end_tag = b"</" + prefix + b"style>"
    found: dict[str, _Style] = {}
    for match in start.finditer(styles_xml):
        end = styles_xml.find(end_tag, match.end())
        end = end + len(end_tag) if end >= 0 else len(styles_xml)
        snippet = styles_xml[match.start() : end]
        head = snippet[: snippet.find(b">") + 1]
        if _attr(head, prefix + b"type") != "paragraph":
            continue
        style_id = _attr(head, prefix + b"styleId") or ""
        outline = _child_val(snippet, prefix, b"outlineLvl")
        found[style_id] = _Style(
            style_id=style_id,
            name=_child_val(snippet, prefix, b"name") or "",
            based_on=_child_val(snippet, prefix, b"basedOn"),
            outline=int(outline) if outline and outline.isdigit() else None,
            default=(_attr(head, prefix + b"default") or "").lower() in ("1", "true", "on"),
            framed=b"<" + prefix + b"framePr" in snippet,
            span=(match.start(), end),
        )
    return found


def _prefix(xml: bytes, namespace: str) -> bytes | None:
    """The prefix bound to `namespace` on the root element, with its colon ('' if default)."""
    root_tag = re.search(rb"<[A-Za-z_][^?!][^>]*>", xml)
    if root_tag is None:
        return None
    uri = re.escape(namespace.encode())
    bound = re.search(rb"xmlns:([A-Za-z_][\w.-]*)\s*=\s*[\"']" + uri + rb"[\"']", root_tag.group())
    if bound:
        return bound.group(1) + b":"
    if re.search(rb"xmlns\s*=\s*[\"']" + uri + rb"[\"']", root_tag.group()):
        return b""
    return None


def _attr(tag: bytes, name: bytes) -> str | None:
    match = re.search(rb"\s" + re.escape(name) + rb"\s*=\s*(\"[^\"]*\"|'[^']*')", tag)
    if match is None:
        return None
    return html.unescape(match.group(1)[1:-1].decode("utf-8", errors="replace"))


def _child_val(snippet: bytes, prefix: bytes, child: bytes) -> str | None:
    match = re.search(rb"<" + re.escape(prefix + child) + rb"(\s[^>]*)?/?>", snippet)
    if match is None:
        return None
    return _attr(match.group(0), prefix + b"val")


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


def _chain(style_id: str | None, styles: dict[str, _Style]) -> list[_Style]:
    """The style and those it is based on, nearest first (at most 10: loops happen)."""
    chain: list[_Style] = []
    while style_id and style_id in styles and len(chain) < 10:
        style = styles[style_id]
        if style in chain:
            break
        chain.append(style)
        style_id = style.based_on
    return chain


def is_framed(style_id: str | None, styles: dict[str, _Style]) -> bool:
    """A frame (w:framePr) lifts paragraphs out of the text flow, and no direct property
    cancels a style's frame: such styles are never borrowed for the clause."""
    return any(style.framed for style in _chain(style_id, styles))


def default_style(styles: dict[str, _Style]) -> str | None:
    """The paragraph style a paragraph without w:pStyle has."""
    return next((s.style_id for s in styles.values() if s.default), None)


def _family(style: _Style) -> str:
    return re.sub(r"\d", "", style.name or style.style_id).strip().lower()


def _sub_heading(title: str, level: int | None, styles: dict[str, _Style]) -> str:
    """The next heading level, preferably from the title's family ("Überschrift 1" -> "… 2")."""
    if level is None:
        return title
    candidates = [
        s
        for s in styles.values()
        if heading_level(s.style_id, styles) == level + 1 and not is_framed(s.style_id, styles)
    ]
    family = _family(styles[title])
    same = [s for s in candidates if _family(s) == family]
    own = [s for s in candidates if _own_level(s) == level + 1]
    for group in (same, own, candidates):
        if group:
            return group[0].style_id
    return title


# --- the properties a style chain gives a paragraph -------------------------------

Properties = tuple[etree._Element | None, etree._Element | None]  # (w:pPr, w:rPr)


def style_properties(
    styles_xml: bytes | None, style_id: str | None, names: Names
) -> list[Properties]:
    """(pPr, rPr) of the paragraph style `style_id` (None: the default one) and of every
    style it is based on, nearest first, then the document defaults.

    Only these few <w:style> elements are parsed, out of the scanned styles.xml.
    """
    styles = _read_styles(styles_xml, names)
    if not styles_xml or not styles:
        return []
    pieces = [
        styles_xml[slice(*style.span)]
        for style in _chain(style_id or default_style(styles), styles)
    ]
    p = re.escape(_prefix(styles_xml, names.w) or b"")
    defaults = re.search(rb"<" + p + rb"docDefaults[\s>].*?</" + p + rb"docDefaults>", styles_xml,
                         re.DOTALL)
    if defaults:
        pieces.append(defaults.group())
    wrapper = _parse_fragment(styles_xml, b"".join(pieces))
    if wrapper is None:
        return []
    found: list[Properties] = []
    for el in wrapper:
        if el.tag == names.q("docDefaults"):
            found.append((el.find(f"{names.q('pPrDefault')}/{names.q('pPr')}"),
                          el.find(f"{names.q('rPrDefault')}/{names.q('rPr')}")))
        elif el.tag == names.q("style"):
            found.append((el.find(names.q("pPr")), el.find(names.q("rPr"))))
    return found


def _parse_fragment(styles_xml: bytes, fragment: bytes) -> etree._Element | None:
    """Parse elements cut out of styles.xml inside a wrapper declaring its root's namespaces."""
    root_tag = re.search(rb"<[A-Za-z_][^?!][^>]*>", styles_xml)
    declarations = re.findall(
        rb"\sxmlns(?::[A-Za-z_][\w.-]*)?\s*=\s*(?:\"[^\"]*\"|'[^']*')",
        root_tag.group() if root_tag else b"",
    )
    try:
        return parse_xml(b"<fragment" + b"".join(declarations) + b">" + fragment
                         + b"</fragment>", "word/styles.xml")
    except DocumentRejected:
        return None  # a damaged style: borrow it as it is


def choose_styles(
    document: etree._Element,
    styles_xml: bytes | None,
    names: Names,
    exclude: frozenset[etree._Element] = frozenset(),
) -> ClauseStyles:
    """Pick the heading level the document uses most for its sections, and its usual body style.

    `exclude`: paragraphs not to count (verification leaves out the clause itself).
    """
    styles = _read_styles(styles_xml, names)
    if not styles:
        return ClauseStyles()
    body = document.find(names.q("body"))
    levels: Counter[int] = Counter()
    bodies: Counter[str | None] = Counter()
    style_of_level: dict[int, str] = {}
    for p in (body if body is not None else document).iterchildren(names.q("p")):
        if p in exclude:
            continue
        ref = p.find(f"{names.q('pPr')}/{names.q('pStyle')}")
        style_id = ref.get(names.q("val")) if ref is not None else None
        if style_id is not None and style_id not in styles:
            style_id = None
        if is_framed(style_id, styles):
            continue  # a business card's boxes, not the flow the clause joins
        level = heading_level(style_id, styles)
        if level is not None:
            levels[level] += 1
            style_of_level.setdefault(level, style_id or "")
        elif _TEXT(p).strip() and p.find(f"{names.q('pPr')}/{names.q('numPr')}") is None:
            name = styles[style_id].name if style_id else ""
            if not _NOT_BODY.search(name or style_id or ""):
                bodies[style_id] += 1
    for style in styles.values():
        # Defined but unused headings: only styles that are headings by their own name.
        level = _own_level(style)
        if level is not None and not is_framed(style.style_id, styles):
            style_of_level.setdefault(level, style.style_id)
    if levels:
        # Most used level; on a tie the higher-ranking (smaller) one.
        title_level = min(levels, key=lambda lvl: (-levels[lvl], lvl))
    elif style_of_level:
        title_level = min(style_of_level)
    else:
        title_level = None
    title = style_of_level.get(title_level) if title_level else None
    heading = _sub_heading(title, title_level, styles) if title else None
    body_style = max(bodies, key=lambda s: (bodies[s], s is None)) if bodies else None
    return ClauseStyles(title=title, heading=heading, body=body_style)
