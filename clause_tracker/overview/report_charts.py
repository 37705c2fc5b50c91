"""The ECCAR report's charts as PNG pictures (matplotlib, Agg: no display, no pyplot state),
each with the alternative text that goes with it into the document.

Every chart draws numbers already computed (the overview's figures): nothing is counted here.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

DPI = 200
BAR = "#1f5f8b"  # dark blue, 7:1 against white
SECOND = "#e08a1e"  # orange, told apart from the blue without colour vision too (hatched)
GRID = "#c8c8c8"


@dataclass(frozen=True)
class Chart:
    png: bytes
    alt: str  # what the picture shows, for screen readers and the PDF's tags
    width_mm: float


def _german(value: float) -> str:
    return f"{value:.1f}".replace(".", ",")


def _png(figure: Figure) -> bytes:
    FigureCanvasAgg(figure)
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI, bbox_inches="tight",
                   metadata={"Software": None})
    return out.getvalue()


def share_bars(labels: Sequence[str], shares: Sequence[Decimal | None], *, title: str,
               axis: str, alt_intro: str, none_text: str, width_mm: float = 160) -> Chart:
    """Horizontal bars of percentages (0–100), one per label, the value written beside each;
    labels are written whole (the figure grows to fit them)."""
    values = [float(s) if s is not None else 0.0 for s in shares]
    height = 0.9 + 0.42 * max(len(labels), 1)
    figure = Figure(figsize=(width_mm / 25.4, height))
    ax = figure.add_subplot()
    positions = list(range(len(labels)))[::-1]
    ax.barh(positions, values, color=BAR, height=0.6)
    for y, value, share in zip(positions, values, shares, strict=True):
        ax.text(min(value, 100) + 1.2, y, "—" if share is None else f"{_german(value)} %",
                va="center", fontsize=9)
    ax.set_yticks(positions, labels=list(labels), fontsize=9)
    ax.set_xlim(0, 112)
    ax.set_xticks(range(0, 101, 20), labels=[f"{v} %" for v in range(0, 101, 20)], fontsize=8)
    ax.set_xlabel(axis, fontsize=9)
    ax.set_title(title, fontsize=10, loc="left")
    ax.grid(axis="x", color=GRID, linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    parts = [f"{label}: {none_text if share is None else _german(float(share)) + ' %'}"
             for label, share in zip(labels, shares, strict=True)]
    return Chart(_png(figure), f"{alt_intro} " + "; ".join(parts) + ".", width_mm)


def two_lines(labels: Sequence[str], first: Sequence[Decimal | None],
              second: Sequence[Decimal | None], *, names: tuple[str, str], title: str,
              alt_intro: str, none_text: str, width_mm: float = 160) -> Chart:
    """Two percentage series over the same points (quarters), with markers and a legend."""
    figure = Figure(figsize=(width_mm / 25.4, 2.8))
    ax = figure.add_subplot()
    xs = list(range(len(labels)))

    def points(series: Sequence[Decimal | None]) -> list[float]:
        return [float(v) if v is not None else float("nan") for v in series]

    ax.plot(xs, points(first), marker="o", color=BAR, label=names[0], linewidth=1.8)
    ax.plot(xs, points(second), marker="s", linestyle="--", color=SECOND, label=names[1],
            linewidth=1.8)
    ax.set_xticks(xs, labels=list(labels), fontsize=8, rotation=30 if len(xs) > 6 else 0,
                  ha="right" if len(xs) > 6 else "center")
    ax.set_ylim(0, 105)
    ax.set_yticks(range(0, 101, 20), labels=[f"{v} %" for v in range(0, 101, 20)], fontsize=8)
    ax.set_title(title, fontsize=10, loc="left")
    ax.grid(axis="y", color=GRID, linewidth=0.6)
    ax.legend(fontsize=8, loc="lower right", frameon=False)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)

    def said(v: Decimal | None) -> str:
        return none_text if v is None else _german(float(v)) + " %"

    parts = [f"{label}: {names[0]} {said(a)}, {names[1]} {said(b)}"
             for label, a, b in zip(labels, first, second, strict=True)]
    return Chart(_png(figure), f"{alt_intro} " + "; ".join(parts) + ".", width_mm)
