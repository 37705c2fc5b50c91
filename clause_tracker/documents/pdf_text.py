"""The text layer of a PDF as pages of lines in reading order.

Two readers, one answer. PDFium (pypdfium2, the engine of Chromium's viewer) reads an
ordinary page, one column of visible text, at about a sixth of pypdf's time. A page
with invisible text or two columns goes to pypdf's text visitor, which gives each
piece of text with its render mode and position: the hidden words are counted and
left out, the columns read one after the other (lines by baseline, columns by where
lines start). Both keep a hyphen at a line's end as it was printed; join_lines decides
later whether it splits a word. pdfminer.six was slower than pypdf (measured on a
16-page contract).
"""

from __future__ import annotations

from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from pypdf import PageObject

from clause_tracker.documents.layout import fix_glyphs


@dataclass
class _Line:
    x: float
    y: float
    size: float
    text: str
    reach: float  # beyond this x, text on the same baseline belongs to another column


@dataclass
class PageText:
    lines: list[str]
    hidden: int  # characters of invisible text (render mode 3 or 7) left out


# Text render modes that paint nothing: a scanner's OCR layer, or words hidden on purpose.
_INVISIBLE = frozenset({3, 7})


def page_lines(page: PageObject) -> PageText:
    """The page's visible text lines, top to bottom; a two-column page column by column."""
    lines: list[_Line] = []
    state = {"mode": 0, "hidden": 0}
    saved: list[int] = []

    def operator(op: bytes, args: list[object], cm: object, tm: object) -> None:
        # The render mode is part of the graphics state: q saves it, Q restores it.
        if op == b"Tr" and args and isinstance(args[0], int | float):
            state["mode"] = int(args[0])
        elif op == b"q":
            saved.append(state["mode"])
        elif op == b"Q" and saved:
            state["mode"] = saved.pop()

    def visit(text: str, cm: list[float], tm: list[float], font: object, size: float) -> None:
        if not text:
            return
        if state["mode"] in _INVISIBLE:
            state["hidden"] += len("".join(text.split()))
            return
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        scale = abs(tm[3] * cm[3]) or abs(tm[0] * cm[0]) or 1.0
        height = max(1.0, (size or 1.0) * scale)
        for number, piece in enumerate(text.split("\n")):
            if number:  # pypdf's own line break: whatever follows starts a line
                lines.append(_Line(x, y, height, "", x))
            if not piece.strip():
                if lines:
                    lines[-1].text += piece
                continue
            reach = x + height * (0.6 * len(piece) + 3)
            last = lines[-1] if lines else None
            if last is not None and not last.text.strip():
                last.x, last.y, last.size, last.reach = x, y, height, reach
                last.text += piece
            elif last is not None and abs(last.y - y) < 0.5 * height and x <= last.reach:
                last.text += piece
                last.reach = max(last.reach, reach)
            else:
                lines.append(_Line(x, y, height, piece, reach))

    # extract_text swallows a decompression bomb and reads the page as empty (which would
    # send it to OCR); reading the contents first lets pypdf's LimitReachedError through.
    contents = page.get_contents()
    if contents is not None:
        contents.get_data()
    page.extract_text(visitor_text=visit, visitor_operand_before=operator)
    kept = [line for line in lines if line.text.strip()]
    width = float(page.mediabox.width)
    return PageText([fix_glyphs(line.text.strip()) for line in _reading_order(kept, width)],
                    state["hidden"])


def _reading_order(lines: list[_Line], width: float) -> list[_Line]:
    columns = _columns(lines, width)
    if columns is None:
        return lines  # one column: the content stream's order is the reading order
    key = lambda line: (-line.y, line.x)  # noqa: E731
    return [line for part in columns for line in sorted(part, key=key)]


def _columns(lines: list[_Line], width: float) -> tuple[list[_Line], ...] | None:
    """Lines above the columns (a title across both), the left column, the right one and
    the lines below; None for a page of one column."""
    left = [line for line in lines if line.x < width * 0.45]
    right = [line for line in lines if line.x >= width * 0.45]
    if len(right) < 3 or len(right) < 0.2 * len(lines) or len(left) < 3:
        return None
    top = min(line.y for line in right)
    bottom = max(line.y for line in right)
    overlap = [line for line in left if top - 2 * line.size <= line.y <= bottom + 2 * line.size]
    if len(overlap) < 3:
        return None
    above = [line for line in left if line.y > bottom + 2 * line.size]
    below = [line for line in left if line.y < top - 2 * line.size]
    return above, overlap, right, below


# PDFium joins a word hyphenated at a line's end and marks the hyphen with this character.
_PDFIUM_HYPHEN = "\ufffe"


def quick_page_lines(page: pdfium.PdfPage) -> list[str] | None:
    """The page's lines read by PDFium, or None when the page needs page_lines: it has
    invisible text, or its lines start in two columns (see _reading_order)."""
    if _has_invisible_text(page):
        return None
    textpage = page.get_textpage()
    try:
        width = page.get_width()
        if _columns(_rect_lines(textpage), width) is not None:
            return None
        text = textpage.get_text_range().replace(_PDFIUM_HYPHEN, "-\n")
    finally:
        textpage.close()
    return [fix_glyphs(line.strip()) for line in text.splitlines() if line.strip()]


def _has_invisible_text(page: pdfium.PdfPage) -> bool:
    return any(pdfium_c.FPDFTextObj_GetTextRenderMode(obj.raw) in _INVISIBLE
               for obj in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_TEXT,)))


def _rect_lines(textpage: pdfium.PdfTextPage) -> list[_Line]:
    """PDFium's text rectangles merged into lines the way page_lines merges pieces:
    same baseline, and starting no further right than 3 heights past the previous end."""
    lines: list[_Line] = []
    for index in range(textpage.count_rects()):
        left, bottom, right, top = textpage.get_rect(index)
        height = max(1.0, top - bottom)
        last = lines[-1] if lines else None
        if last is not None and abs(last.y - bottom) < 0.5 * height and left <= last.reach:
            last.reach = max(last.reach, right + 3 * height)
        else:
            lines.append(_Line(left, bottom, height, "", right + 3 * height))
    return lines
