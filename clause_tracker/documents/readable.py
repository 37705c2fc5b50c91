"""Keeping the clause readable in the styles it borrows.

The clause takes the document's heading and body styles so that it looks like the rest
of the document. A style can also change what the clause says or hide it: number its
title and "§ N" headings, run it right to left, strike it through, hide it, draw it in
the colour of the page or too small to read. For each role the clause's own paragraphs
and runs get direct properties that switch off exactly that; fonts, sizes and colours
that read well stay the document's. Capitals (caps, smallCaps) are switched off too,
though they only change how letters look: German spelling carries meaning in letter
case ("Arm"/"arm", ß), and the text read back from a PDF of the document (pdftotext,
the returned-copy check) comes out in capitals, so the clause would no longer read as
written. Frames cannot be switched off by a direct property; styles.choose_styles
never borrows a framed style.

verify.py imports `is_neutralising`: what the engine writes here is not formatting.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from clause_tracker.documents.namespaces import Names
from clause_tracker.documents.styles import ClauseStyles, Properties, style_properties
from clause_tracker.documents.wordml import local

READABLE_SIZE = "22"  # half-points: 11 pt, for styles under MIN_SIZE
MIN_SIZE = 12  # half-points: text under 6 pt cannot be read on paper
# Contrast with what the text is drawn on below which it nearly vanishes (pale greys, white,
# light pastels: 1-2.4:1). Above it stay the documents' own accent colours (blue headings
# at 2.9:1 are common, WCAG asks 3:1 for large text): they change the look, not the words.
MIN_CONTRAST = 2.5
_OFF = frozenset({"0", "false", "off"})
# What the engine writes, in schema order (pPr and rPr children must keep it).
# numPr: the value of its w:numId, 0 being "no numbering".
PARAGRAPH_NEUTRAL = {"numPr": "0", "bidi": "0"}
RUN_NEUTRAL = {
    "caps": "0",
    "smallCaps": "0",
    "strike": "0",
    "dstrike": "0",
    "vanish": "0",
    "color": "auto",
    "sz": READABLE_SIZE,
    "szCs": READABLE_SIZE,
    "rtl": "0",
}
_TOGGLES = ("caps", "smallCaps", "strike", "dstrike", "vanish", "rtl")
_WHITE = (255, 255, 255)
_BACKGROUND_THEMES = frozenset({"background1", "light1", "bg1"})
# The colours behind the w:highlight names.
_HIGHLIGHTS = {
    "black": (0, 0, 0), "blue": (0, 0, 255), "cyan": (0, 255, 255), "green": (0, 255, 0),
    "magenta": (255, 0, 255), "red": (255, 0, 0), "yellow": (255, 255, 0),
    "white": _WHITE, "darkBlue": (0, 0, 128), "darkCyan": (0, 128, 128),
    "darkGreen": (0, 128, 0), "darkMagenta": (128, 0, 128), "darkRed": (128, 0, 0),
    "darkYellow": (128, 128, 0), "darkGray": (128, 128, 128), "lightGray": (192, 192, 192),
}


@dataclass(frozen=True)
class Neutralised:
    """Names of the properties to switch off on a role's paragraphs and on their runs."""

    paragraph: tuple[str, ...] = ()
    run: tuple[str, ...] = ()


def roles(styles: ClauseStyles) -> dict[str, str | None]:
    """The paragraph style of each kind of clause block."""
    return {"title": styles.title, "heading": styles.heading, "paragraph": styles.body}


def neutralise(
    styles_xml: bytes | None, styles: ClauseStyles, names: Names, document: etree._Element
) -> dict[str, Neutralised]:
    """For each clause role, what its borrowed style does that must be undone."""
    page = _page_colour(document, names)
    return {
        role: _for_style(style_properties(styles_xml, style_id, names), names, page)
        for role, style_id in roles(styles).items()
    }


def paragraph_properties(neutral: Neutralised, names: Names) -> list[etree._Element]:
    found = []
    for name in PARAGRAPH_NEUTRAL:
        if name in neutral.paragraph:
            el = etree.Element(names.q(name))
            if name == "numPr":
                etree.SubElement(el, names.q("numId")).set(names.q("val"), "0")
            else:
                el.set(names.q("val"), PARAGRAPH_NEUTRAL[name])
            found.append(el)
    return found


def run_properties(neutral: Neutralised, names: Names) -> list[etree._Element]:
    found = []
    for name, value in RUN_NEUTRAL.items():
        if name in neutral.run:
            el = etree.Element(names.q(name))
            el.set(names.q("val"), value)
            found.append(el)
    return found


def is_neutralising(el: etree._Element, names: Names) -> bool:
    """True for a property as this module writes it (after a save by Word or LibreOffice
    too): it keeps the clause readable and is not formatting."""
    name = local(el)
    if name == "numPr":
        number = el.find(names.q("numId"))
        others = [c for c in el if isinstance(c.tag, str) and local(c) not in ("numId", "ilvl")]
        return number is not None and number.get(names.q("val")) == "0" and not others
    expected = PARAGRAPH_NEUTRAL.get(name) or RUN_NEUTRAL.get(name)
    if expected is None or set(el.attrib) - {names.q("val")}:
        return False
    value = (el.get(names.q("val")) or "").lower()
    return value == expected.lower() or (expected == "0" and value in _OFF)


# --- what a style chain does ------------------------------------------------------


def _for_style(levels: list[Properties], names: Names, page: tuple[int, int, int]) -> Neutralised:
    paragraphs = [p for p, _ in levels]
    runs = [r for _, r in levels]
    paragraph = []
    if _numbered(paragraphs, names):
        paragraph.append("numPr")
    if _on(_nearest(paragraphs, "bidi", names), names):
        paragraph.append("bidi")
    run = [name for name in _TOGGLES if _any_on(runs, name, names)]
    if _hard_to_see(runs, paragraphs, names, page):
        run.append("color")
    for name in ("sz", "szCs"):
        size = _nearest(runs, name, names)
        value = size.get(names.q("val"), "") if size is not None else ""
        if value.isdigit() and int(value) < MIN_SIZE:
            run.append(name)
    return Neutralised(paragraph=tuple(paragraph), run=tuple(run))


def _nearest(
    props: list[etree._Element | None], name: str, names: Names
) -> etree._Element | None:
    """The property as the nearest style in the chain sets it (styles override their base)."""
    for container in props:
        if container is not None:
            el = container.find(names.q(name))
            if el is not None:
                return el
    return None


def _on(el: etree._Element | None, names: Names) -> bool:
    return el is not None and (el.get(names.q("val")) or "true").lower() not in _OFF


def _any_on(props: list[etree._Element | None], name: str, names: Names) -> bool:
    # Toggle properties combine along a style chain in ways Word and LibreOffice do not
    # agree on; switching off what any level switches on is right for both.
    return any(
        _on(container.find(names.q(name)), names) for container in props if container is not None
    )


def _numbered(paragraphs: list[etree._Element | None], names: Names) -> bool:
    """Numbered by the nearest style that names a list (a numPr may give only a level)."""
    path = f"{names.q('numPr')}/{names.q('numId')}"
    numbers = (c.find(path) for c in paragraphs if c is not None)
    number = next((n for n in numbers if n is not None), None)
    return number is not None and number.get(names.q("val")) != "0"


# --- colour -------------------------------------------------------------------------


def _hard_to_see(
    runs: list[etree._Element | None],
    paragraphs: list[etree._Element | None],
    names: Names,
    page: tuple[int, int, int],
) -> bool:
    colour = _nearest(runs, "color", names)
    if colour is None:
        return False
    value = colour.get(names.q("val")) or ""
    rgb = _hex(value)
    if rgb is None:
        # No usable value: only a theme colour meant for backgrounds is a problem.
        theme = (colour.get(names.q("themeColor")) or "").lower()
        return value.lower() != "auto" and theme in _BACKGROUND_THEMES
    return _contrast(rgb, _behind(runs, paragraphs, names, page)) < MIN_CONTRAST


def _behind(
    runs: list[etree._Element | None],
    paragraphs: list[etree._Element | None],
    names: Names,
    page: tuple[int, int, int],
) -> tuple[int, int, int]:
    """What the text is drawn on: run shading, highlight, paragraph shading, or the page."""
    run_fill = _fill(_nearest(runs, "shd", names), names)
    if run_fill is not None:
        return run_fill
    highlight = _nearest(runs, "highlight", names)
    name = highlight.get(names.q("val")) or "" if highlight is not None else ""
    if name in _HIGHLIGHTS:
        return _HIGHLIGHTS[name]
    return _fill(_nearest(paragraphs, "shd", names), names) or page


def _fill(shading: etree._Element | None, names: Names) -> tuple[int, int, int] | None:
    return _hex(shading.get(names.q("fill")) or "") if shading is not None else None


def _page_colour(document: etree._Element, names: Names) -> tuple[int, int, int]:
    background = document.find(names.q("background"))
    if background is None:
        return _WHITE
    return _hex(background.get(names.q("color")) or "") or _WHITE


def _hex(value: str) -> tuple[int, int, int] | None:
    if len(value) != 6:
        return None
    try:
        number = int(value, 16)
    except ValueError:
        return None
    return (number >> 16) & 255, (number >> 8) & 255, number & 255


def _luminance(rgb: tuple[int, int, int]) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    """WCAG contrast ratio, 1 (the same) to 21 (black on white)."""
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)
