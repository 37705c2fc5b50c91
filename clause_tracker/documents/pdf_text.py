"""The text layer of a PDF as pages of lines in reading order.

pypdf, not pdfminer.six: pypdf is pure Python with no dependencies, actively
maintained, caps decompressed streams itself (a second line of defence beside
the sandbox's memory limit), and its text visitor gives each piece of text with
its position, which is all the reading order needs here (lines by baseline,
two columns by where lines start). pdfminer.six's layout analysis would do more
than needed at about twice the time (measured on a 16-page contract).
"""

from __future__ import annotations

from dataclasses import dataclass

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
    left = [line for line in lines if line.x < width * 0.45]
    right = [line for line in lines if line.x >= width * 0.45]
    if len(right) < 3 or len(right) < 0.2 * len(lines) or len(left) < 3:
        return lines  # one column: the content stream's order is the reading order
    top = min(line.y for line in right) if right else 0
    bottom = max(line.y for line in right)
    overlap = [line for line in left if top - 2 * line.size <= line.y <= bottom + 2 * line.size]
    if len(overlap) < 3:
        return lines
    # Lines above the columns (a title across both), the left column, the right one.
    above = [line for line in left if line.y > bottom + 2 * line.size]
    below = [line for line in left if line.y < top - 2 * line.size]
    key = lambda line: (-line.y, line.x)  # noqa: E731
    return sorted(above, key=key) + sorted(overlap, key=key) + sorted(right, key=key) + \
        sorted(below, key=key)
