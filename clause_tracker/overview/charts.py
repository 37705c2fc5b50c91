"""Accessible bar charts as SVG, drawn on the server (no script, no CDN, CSP-safe: only
presentation attributes, no style attributes).

Each chart has role="img", a <title> and a <desc> naming every value; every bar carries its
value as text beside it, so nothing depends on colour. The page shows the same numbers in a
table next to the chart.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from decimal import Decimal
from xml.sax.saxutils import escape

from markupsafe import Markup

from clause_tracker.overview.tables import Cell, Table

BAR_HEIGHT = 18
GAP = 8
LABEL_WIDTH = 300
PLOT_WIDTH = 330
VALUE_WIDTH = 70
PAD = 4
FONT = 13
LINE = 15  # a label's line height
LABEL_CHARS = 40  # per line at FONT in LABEL_WIDTH: labels wrap, never cut


def bar_chart(table: Table, label_column: int, value_column: int, title: str,
              formatter: Callable[[Cell], str], chart_id: str) -> Markup:
    """Horizontal bars of a percentage column (0–100) of `table`, one per row."""
    rows: list[tuple[str, Decimal | None, str]] = []
    for row in table.rows:
        cell: Cell = row[value_column]
        rows.append((str(row[label_column].value), cell.value, formatter(cell)))  # type: ignore[arg-type]
    labels = [textwrap.wrap(label, LABEL_CHARS) or [""] for label, _, _ in rows]
    heights = [max(BAR_HEIGHT, len(lines) * LINE) for lines in labels]
    height = PAD * 2 + sum(h + GAP for h in heights) + 16
    width = LABEL_WIDTH + PLOT_WIDTH + VALUE_WIDTH
    description = "; ".join(f"{label}: {shown}" for label, _, shown in rows)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
    ]
    # Gridlines at 0, 50 and 100 % with their labels: the scale is readable without colour.
    base_y = height - 12
    for mark in (0, 50, 100):
        x = LABEL_WIDTH + PLOT_WIDTH * mark / 100
        parts.append(f'<line x1="{x:.1f}" y1="{PAD}" x2="{x:.1f}" y2="{base_y}" '
                     f'stroke="#767676" stroke-width="1" stroke-dasharray="2 3"/>')
        parts.append(f'<text x="{x:.1f}" y="{height - 2}" font-size="{FONT}" '
                     f'text-anchor="middle" fill="#1a1a1a">{mark} %</text>')
    y = PAD
    for (_label, value, shown), lines, row_height in zip(rows, labels, heights, strict=True):
        middle = y + row_height / 2 + 4
        first = middle - (len(lines) - 1) * LINE / 2
        spans = "".join(f'<tspan x="{LABEL_WIDTH - 6}" y="{first + n * LINE:.1f}">'
                        f'{escape(line)}</tspan>' for n, line in enumerate(lines))
        parts.append(f'<text font-size="{FONT}" text-anchor="end" fill="#1a1a1a">{spans}</text>')
        bar_y = y + (row_height - BAR_HEIGHT) / 2
        length = 0.0 if value is None else PLOT_WIDTH * float(value) / 100
        # Dark blue fill with a black outline: contrast 3:1 against white for the bar itself.
        parts.append(f'<rect x="{LABEL_WIDTH}" y="{bar_y:.1f}" width="{length:.1f}" '
                     f'height="{BAR_HEIGHT}" fill="#1f4e8c" stroke="#000" stroke-width="0.5"/>')
        parts.append(f'<text x="{LABEL_WIDTH + length + 4:.1f}" y="{middle:.1f}" '
                     f'font-size="{FONT}" fill="#1a1a1a">{escape(shown)}</text>')
        y += row_height + GAP
    parts.append("</svg>")
    # Every piece of text above went through escape(); the rest is our own markup.
    return Markup("".join(parts))  # noqa: S704


def text_bar(value: Decimal | None, width: int = 20) -> str:
    """A bar of Unicode blocks (█ full, ▏… partial eighths) for the DOCX report's chart."""
    if value is None:
        return ""
    eighths = round(float(value) / 100 * width * 8)
    full, rest = divmod(eighths, 8)
    return "█" * full + ("", "▏", "▎", "▍", "▌", "▋", "▊", "▉")[rest]
