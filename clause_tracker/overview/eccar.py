"""The biennial ECCAR report (Commitment 2): the overview's figures for a period, as DOCX
(python-docx) or as raw JSON.

Same inputs, same numbers: agreements are those *decided* in the period, and their compliance
state is taken as of the period's last day (or today, if the period has not ended), so a
report re-run later for the same period does not drift with the calendar. The tables are the
overview's own (tables.py), rendered in German.

The chart is a table of Unicode block bars (█ and eighth blocks): python-docx embeds only
raster images, and the project adds no plotting library; a text bar stays sharp, is read out
by screen readers together with its number, and prints in black and white.
"""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt
from flask_babel import force_locale
from flask_babel import gettext as _

from clause_tracker.clock import utcnow
from clause_tracker.overview import metrics
from clause_tracker.overview.charts import text_bar
from clause_tracker.overview.metrics import Figures, Period
from clause_tracker.overview.tables import Table, figure_tables, shown

DOCX_MIMETYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

# Which of the overview's tables answer which commitment.
SECTIONS = [
    ("commitment_5", ("coverage_by_kind", "clause_attached_verified", "declarations",
                      "exemptions", "clause_versions", "trend")),
    ("commitment_6", ("coverage_by_unit_type", "coverage_by_unit", "checks", "measures",
                      "exclusions")),
    ("commitment_8", ()),
    ("complaints", ("complaints",)),
]


def as_of(period: Period, today: date) -> date:
    return min(period.end, today) if period.end else today


def figures(period: Period, today: date) -> Figures:
    return metrics.compute(None, period, as_of(period, today))


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def raw(data: Figures) -> dict[str, Any]:
    """The figures as plain JSON (`report eccar --json`)."""
    cov = data.coverage

    def tally(t: metrics.GroupCoverage) -> dict[str, Any]:
        return {k: _plain(v) for k, v in {
            "in_scope": t.in_scope, "covered": t.covered, "share_percent": t.share,
            "value_in_scope": t.value_in_scope, "value_covered": t.value_covered,
            "value_share_percent": t.value_share, "pending": t.pending,
            "non_compliant": t.non_compliant, "exempt": t.exempt,
            "clause_attached": t.attached, "clause_verified": t.verified,
            "value_clause_attached": t.value_attached,
            "value_clause_verified": t.value_verified}.items()}

    grants, with_commitment, mean = data.commitments
    follow = data.follow_up
    return {
        "period": {"from": _plain(data.period.start), "to": _plain(data.period.end)},
        "as_of": data.day.isoformat(),
        "coverage": {
            "total": tally(cov.total),
            "by_kind": {k: tally(v) for k, v in sorted(cov.by_kind.items())},
            "by_unit_type": {k: tally(v) for k, v in sorted(cov.by_unit_kind.items())},
            "by_unit": {u.code: tally(cov.by_unit[u.id]) for u in data.units},
            "by_quarter": {q: tally(v) for q, v in sorted(cov.by_quarter.items())},
        },
        "declarations": data.declarations.counts | {
            "return_rate_percent": _plain(data.declarations.return_rate),
            "on_time_rate_percent": _plain(data.declarations.on_time_rate)},
        "exemptions": [{"reason": r, "agreements": n, "value": _plain(v)}
                       for r, n, v in data.exemptions],
        "clause_versions": [{"version": label, "agreements": n}
                            for _, label, n in data.clause_versions],
        "self_commitments": {"grants_in_scope": grants, "with_self_commitment": with_commitment,
                             "share_percent": _plain(metrics.percent(with_commitment, grants)),
                             "mean_score": _plain(mean)},
        "checks_and_measures": None if follow is None else {
            "agreements": follow.agreements, "checks_completed": follow.checks_done,
            "complaints_linked": follow.complaints,
            "exclusions_in_force": len(follow.exclusions)},
    }


def _table(document: Any, table: Table) -> None:
    document.add_paragraph(table.title, style="Heading 3")
    if not table.rows:
        document.add_paragraph(_("Nothing to show."))
        return
    grid = document.add_table(rows=1, cols=len(table.columns), style="Table Grid")
    for cell, title in zip(grid.rows[0].cells, table.columns, strict=True):
        cell.text = title
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for row in table.rows:
        cells = grid.add_row().cells
        for index, (target, value) in enumerate(zip(cells, row, strict=True)):
            target.text = shown(value)
            if index and value.kind != "text":
                target.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT


def _chart(document: Any, table: Table) -> None:
    """Coverage per unit by count, as bars of block characters beside their numbers."""
    document.add_paragraph(_("Chart: coverage per unit, by count"), style="Heading 3")
    grid = document.add_table(rows=1, cols=3, style="Table Grid")
    for cell, title in zip(grid.rows[0].cells,
                           (_("Unit"), _("Coverage (count) %"), _("Bar (█ = 5 %)")),
                           strict=True):
        cell.text = title
    for row in table.rows:
        cells = grid.add_row().cells
        cells[0].text = str(row[0].value)
        cells[1].text = shown(row[4])
        cells[2].text = text_bar(row[4].value) or "—"  # type: ignore[arg-type]
        for run in cells[2].paragraphs[0].runs:
            run.font.size = Pt(9)


def render_docx(data: Figures, generated_at: datetime | None = None) -> bytes:
    generated_at = generated_at or utcnow()
    with force_locale("de"):
        tables = {t.key: t for t in figure_tables(data)}
        document = Document()
        document.core_properties.title = _("ECCAR report: clause coverage and compliance")
        document.add_heading(_("ECCAR report: anti-racism clause in contracts and grants"), 0)
        start = data.period.start.strftime("%d.%m.%Y") if data.period.start else "—"
        end = data.period.end.strftime("%d.%m.%Y") if data.period.end else "—"
        document.add_paragraph(_("City of Jena · period: agreements decided from %(start)s "
                                 "to %(end)s · compliance as of %(day)s",
                                 start=start, end=end, day=data.day.strftime("%d.%m.%Y")))
        document.add_paragraph(_("Generated on %(moment)s (UTC). Figures are aggregates; no "
                                 "personal data and no complaint details.",
                                 moment=generated_at.strftime("%d.%m.%Y %H:%M")))
        headings = {
            "commitment_5": _("Commitment 5: the clause in every award of contracts and grants"),
            "commitment_6": _("Commitment 6: municipal enterprises and continuous monitoring"),
            "commitment_8": _("Commitment 8: voluntary self-commitment of grantees"),
            "complaints": _("Complaints linked to agreements (Commitment 3, counts only)"),
        }
        for section, keys in SECTIONS:
            document.add_heading(headings[section], 1)
            if section == "commitment_6":
                _chart(document, tables["coverage_by_unit"])
            if section == "commitment_8":
                grants, with_commitment, mean = data.commitments
                share = metrics.percent(with_commitment, grants)
                grid = document.add_table(rows=0, cols=2, style="Table Grid")
                for label, value in (
                    (_("Grants in scope"), str(grants)),
                    (_("Grants with a voluntary self-commitment"), str(with_commitment)),
                    (_("Share %"), "—" if share is None else f"{share}".replace(".", ",")),
                    (_("Mean score of the self-commitments"),
                     "—" if mean is None else f"{mean}".replace(".", ",")),
                ):
                    cells = grid.add_row().cells
                    cells[0].text, cells[1].text = label, value
            for key in keys:
                if key in tables:
                    _table(document, tables[key])
        out = io.BytesIO()
        document.save(out)
        return out.getvalue()
