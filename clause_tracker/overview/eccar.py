"""The biennial ECCAR report (Commitment 2): the overview's figures for a period, as a
document a city sends (DOCX, and PDF/A through LibreOffice) or as raw JSON.

Same inputs, same numbers: agreements are those *decided* in the period, and their compliance
state is taken as of the period's last day (or today, if the period has not ended), so a
report re-run later for the same period does not drift with the calendar. Every number comes
from the overview's figures (metrics.py, which counts with the compliance state's one
definition) through the overview's own tables (tables.py); this module only lays them out:
A4, one section per commitment the product serves (2, 3, 5, 6, 8) with the steering group's
text for the period (narratives.py), the indicators and how each is computed, charts as
pictures with alternative text, wide tables split or set on landscape pages, and a method
section naming the audit event the figures were computed at.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from flask_babel import force_locale, to_user_timezone
from flask_babel import gettext as _
from sqlalchemy import select

from clause_tracker.audit.services import head as audit_head
from clause_tracker.clauses.models import ClauseVersion
from clause_tracker.clock import utcnow
from clause_tracker.documents.docx_pages import a4, drop_thumbnail, page_footer, set_language
from clause_tracker.extensions import db
from clause_tracker.overview import metrics, narratives
from clause_tracker.overview.metrics import Figures, Period
from clause_tracker.overview.tables import INT, MONEY, PCT, Cell, Table, figure_tables, shown

DOCX_MIMETYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

# Which of the overview's tables answer which commitment, in the report's order.
SECTIONS = [
    ("commitment_2", ("trend",)),
    ("commitment_3", ("complaints",)),
    ("commitment_5", ("coverage_by_kind", "clause_attached_verified", "declarations",
                      "exemptions", "clause_versions")),
    ("commitment_6", ("coverage_by_unit_type", "coverage_by_unit", "checks", "measures",
                      "exclusions")),
    ("commitment_8", ()),
]
# Wide tables in parts that fit a page: column indexes of the overview's table, the first
# (the row's label) repeated in each part; a part title (or None: the table's own title).
PARTS: dict[str, list[tuple[str | None, list[int]]]] = {
    "coverage_by_unit": [("count", [0, 2, 3, 4, 8, 9, 10]), ("value", [0, 5, 6, 7])],
    "coverage_by_unit_type": [("count", [0, 1, 2, 3, 7, 8, 9]), ("value", [0, 4, 5, 6])],
    "coverage_by_kind": [("count", [0, 1, 2, 3, 7, 8, 9]), ("value", [0, 4, 5, 6])],
    "clause_attached_verified": [("count", [0, 1, 2, 3, 4]), ("value", [0, 5, 6, 7])],
}
# Tables set on a landscape page: a unit's full name in each row.
LANDSCAPE = frozenset({"coverage_by_unit", "clause_attached_verified"})
QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


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



@dataclass
class Report:
    """What one report shows: the figures and everything said about them."""

    figures: Figures
    texts: dict[str, str] = field(default_factory=dict)  # narratives of the period
    anchor: tuple[int, str] | None = None  # newest audit event (id, hash) when computed
    clause_labels: dict[int, str] = field(default_factory=dict)  # version id → in words
    generated_at: datetime = field(default_factory=utcnow)


def build(period: Period, today: date) -> Report:
    """The figures of the period with the steering group's texts and the audit anchor."""
    newest = audit_head()
    data = figures(period, today)
    return Report(data, narratives.texts(period),
                  None if newest is None else (newest.id, newest.hash),
                  clause_labels(data), utcnow())


LANGUAGE_WORDS = {"de": "deutsch", "en": "englisch"}


def clause_labels(data: Figures) -> dict[int, str]:
    """Each clause version in use in words: its title, "Fassung 1.0", its language."""
    ids = [version_id for version_id, _label, _n in data.clause_versions]
    if not ids:
        return {}
    rows = db.session.scalars(select(ClauseVersion).where(ClauseVersion.id.in_(ids)))
    return {row.id: _("%(title)s, version %(version)s, %(language)s", title=row.title,
                      version=row.version, language=language_name(row.language))
            for row in rows}


def language_name(code: str) -> str:
    return {"de": _("German"), "en": _("English")}.get(code, code)


def quarter_label(key: str) -> str:
    """"2026-Q4" → "4. Quartal 2026"."""
    found = QUARTER.match(key)
    if not found:
        return key
    return _("Q%(quarter)s %(year)s", quarter=found.group(2), year=found.group(1))


def _day(value: date | None) -> str:
    return value.strftime("%d.%m.%Y") if value else "—"


def _berlin(moment: datetime) -> str:
    return to_user_timezone(moment).strftime("%d.%m.%Y, %H:%M")


# --- layout -------------------------------------------------------------------------------------

TABLE_FONT = Pt(9)
PORTRAIT_WIDTH_PT = (210 - 25 - 20) / 25.4 * 72  # A4 less the margins (docx_pages.a4)
HEADER_FILL = "DCE6F0"
# Arial 9 pt: an average character of German text takes about 5 pt, a wide one 6.5 pt.
CHAR_PT = 5.4
PADDING_PT = 14


def _shade(cell: Any, fill: str) -> None:
    properties = cell._tc.get_or_add_tcPr()
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    properties.append(shading)


def _repeat_header(row: Any) -> None:
    properties = row._tr.get_or_add_trPr()
    for tag in ("w:tblHeader", "w:cantSplit"):
        element = OxmlElement(tag)
        element.set(qn("w:val"), "true")
        properties.append(element)


def _longest_word(texts: list[str]) -> int:
    return max((len(word) for text in texts for word in text.split()), default=1)


def minimum_widths(columns: list[list[str]], numeric: list[bool]) -> list[float]:
    """Each column's least width in pt: its longest word (the header's in bold), and for
    numbers their whole text, so that no word and no number is broken."""
    widths = []
    for col, number in zip(columns, numeric, strict=True):
        need = _longest_word(col[:1]) * CHAR_PT * 1.12
        body = col[1:]
        if number:
            need = max(need, max((len(v) for v in body), default=1) * CHAR_PT)
        else:
            need = max(need, _longest_word(body) * CHAR_PT)
        widths.append(need + PADDING_PT)
    return widths


def _widths(columns: list[list[str]], numeric: list[bool], available_pt: float) -> list[float]:
    """Column widths in pt: at least `minimum_widths`; the room left goes to the text
    columns, in proportion to how much text they hold."""
    widths = minimum_widths(columns, numeric)
    rest = available_pt - sum(widths)
    if rest <= 0:
        return widths
    weights = [0 if number else max((len(v) for v in col), default=1)
               for col, number in zip(columns, numeric, strict=True)]
    if not any(weights):
        weights = [1] * len(columns)
    total = sum(weights)
    return [w + rest * weight / total for w, weight in zip(widths, weights, strict=True)]


def _set_cell(cell: Any, text: str, *, bold: bool = False, right: bool = False) -> None:
    paragraph = cell.paragraphs[0]
    paragraph.paragraph_format.space_after = Pt(0)
    run = paragraph.add_run(text)
    run.font.size = TABLE_FONT
    run.bold = bold
    if right:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT


def _fixed_layout(table: Any, widths: list[float]) -> None:
    """Widths the reader keeps: the grid's columns, each cell's, and a fixed layout."""
    properties = table._tbl.tblPr
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    properties.append(layout)
    width = properties.find(qn("w:tblW"))
    if width is None:
        width = OxmlElement("w:tblW")
        properties.append(width)
    width.set(qn("w:w"), str(int(sum(widths) * 20)))
    width.set(qn("w:type"), "dxa")
    for column, value in zip(table._tbl.tblGrid.findall(qn("w:gridCol")), widths, strict=True):
        column.set(qn("w:w"), str(int(value * 20)))
    for row in table.rows:
        for cell, value in zip(row.cells, widths, strict=True):
            cell.width = Pt(value)


def grid(document: DocxDocument, header: list[str], rows: list[list[str]],
         numeric: list[bool], available_pt: float) -> None:
    """A table with a shaded header row repeated on each page, fixed column widths."""
    table = document.add_table(rows=1, cols=len(header), style="Table Grid")
    table.alignment = WD_TABLE_ALIGNMENT.LEFT
    table.autofit = False
    columns = [[header[i], *(row[i] for row in rows)] for i in range(len(header))]
    _repeat_header(table.rows[0])
    for cell, title, right in zip(table.rows[0].cells, header, numeric, strict=True):
        _set_cell(cell, title, bold=True, right=right)
        _shade(cell, HEADER_FILL)
    for row in rows:
        cells = table.add_row().cells
        for cell, value, right in zip(cells, row, numeric, strict=True):
            _set_cell(cell, value, right=right)
    _fixed_layout(table, _widths(columns, numeric, available_pt))
    document.add_paragraph().paragraph_format.space_after = Pt(2)


class Layout:
    """The document being written, its sections (portrait, or landscape for wide tables)."""

    def __init__(self, document: DocxDocument, header_text: str, footer_text: str) -> None:
        self.document = document
        self.header_text, self.footer_text = header_text, footer_text
        self.landscape = False
        self._decorate(document.sections[0])

    def _decorate(self, section: Any) -> None:
        a4(section, self.landscape)
        section.header.is_linked_to_previous = True
        section.footer.is_linked_to_previous = True

    @property
    def width_pt(self) -> float:
        section = self.document.sections[-1]
        assert section.page_width is not None and section.left_margin is not None \
            and section.right_margin is not None  # set by docx_pages.a4
        return (section.page_width - section.left_margin - section.right_margin) / 12700

    @property
    def portrait_width_pt(self) -> float:
        return PORTRAIT_WIDTH_PT

    def orientation(self, landscape: bool) -> None:
        if landscape == self.landscape:
            return
        self.landscape = landscape
        self._decorate(self.document.add_section(WD_SECTION.NEW_PAGE))


def _cell_text(cell: Cell, key: str, column: int, labels: dict[int, str]) -> str:
    if column == 0 and key == "trend" and isinstance(cell.value, str):
        return quarter_label(cell.value)
    if column == 0 and key == "clause_versions" and cell.drill:
        version = cell.drill.get("clause_version") if cell.drill else None
        if isinstance(version, int) and version in labels:
            return labels[version]
    return shown(cell)


def _table(layout: Layout, table: Table, labels: dict[int, str]) -> None:
    document = layout.document
    parts = PARTS.get(table.key, [(None, list(range(len(table.columns))))])
    prepared = []
    for part, indexes in parts:
        rows = []
        for row in table.rows:
            texts = []
            for index in indexes:
                cell = row[index]
                # The clause versions' label: their id sits in the count cell's drill-down.
                if table.key == "clause_versions" and index == 0:
                    cell = Cell(cell.value, cell.kind, row[1].drill)
                texts.append(_cell_text(cell, table.key, index, labels))
            rows.append(texts)
        numeric = [index > 0 and bool(table.rows) and table.rows[0][index].kind in
                   (INT, PCT, MONEY) for index in indexes]
        prepared.append((part, indexes, rows, numeric))
    # Landscape where a unit's full name is in each row, or where the columns' least widths
    # do not fit a portrait page.
    wide = table.key in LANDSCAPE or any(
        sum(minimum_widths([[table.columns[i], *(r[n] for r in rows)]
                            for n, i in enumerate(indexes)], numeric)) > PORTRAIT_WIDTH_PT
        for _part, indexes, rows, numeric in prepared)
    layout.orientation(wide)
    for part, indexes, rows, numeric in prepared:
        title = table.title
        if part == "count":
            title = _("%(table)s: by count", table=table.title)
        elif part == "value":
            title = _("%(table)s: by value (net, in EUR)", table=table.title)
        document.add_paragraph(title, style="Heading 3")
        if not table.rows:
            document.add_paragraph(_("Nothing to show."))
            continue
        grid(document, [table.columns[i] for i in indexes], rows, numeric, layout.width_pt)
    if table.note:
        note = document.add_paragraph(table.note)
        note.runs[0].font.size = TABLE_FONT
    layout.orientation(False)


def _picture(layout: Layout, chart: Any) -> None:
    """The chart's picture, centred, with its alternative text (docPr descr and title)."""
    paragraph = layout.document.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    shape = paragraph.add_run().add_picture(io.BytesIO(chart.png), width=Mm(chart.width_mm))
    properties = shape._inline.docPr
    properties.set("descr", chart.alt)
    properties.set("title", chart.alt.split(":")[0][:120])
    caption = layout.document.add_paragraph(chart.alt)
    caption.runs[0].font.size = Pt(8)
    caption.runs[0].font.color.rgb = RGBColor(0x44, 0x44, 0x44)


def _indicators(layout: Layout, rows: list[tuple[str, str, str]]) -> None:
    """Indicator, value, how it is computed: three columns that fit a portrait page."""
    layout.document.add_paragraph(_("Indicators"), style="Heading 3")
    grid(layout.document, [_("Indicator"), _("Value"), _("How it is computed")],
         [list(row) for row in rows], [False, True, False], layout.width_pt)


def _narrative(layout: Layout, text: str | None) -> None:
    if not text:
        note = layout.document.add_paragraph(
            _("The steering group has not written a text for this section yet."))
        note.runs[0].italic = True
        return
    for block in text.split("\n\n"):
        layout.document.add_paragraph(block.replace("\n", " ").strip())


def _percent(value: Decimal | None) -> str:
    return "—" if value is None else shown(Cell(value, PCT))


def _count(value: int) -> str:
    return shown(Cell(value, INT))


def _money(value: Decimal) -> str:
    return shown(Cell(value, MONEY))


def _charts(report: Report, tables: dict[str, Table]) -> dict[str, list[Any]]:
    # matplotlib takes about half a second to import: only the report needs it.
    from clause_tracker.overview import report_charts
    data = report.figures
    none = _("no figure")
    charts: dict[str, list[Any]] = {key: [] for key, _keys in SECTIONS}
    trend = tables.get("trend")
    if trend is not None and trend.rows:
        charts["commitment_2"].append(report_charts.two_lines(
            [quarter_label(str(row[0].value)) for row in trend.rows],
            [row[3].value for row in trend.rows],  # type: ignore[misc]
            [row[4].value for row in trend.rows],  # type: ignore[misc]
            names=(_("by count"), _("by value")),
            title=_("Coverage by quarter of the decision"),
            alt_intro=_("Line chart of the coverage by quarter of the decision, by count and "
                        "by value:"), none_text=none))
    kinds = tables.get("coverage_by_kind")
    if kinds is not None:
        rows = kinds.rows
        charts["commitment_5"].append(report_charts.share_bars(
            [str(row[0].value) for row in rows], [row[3].value for row in rows],  # type: ignore[misc]
            title=_("Coverage: contracts and grants"), axis=_("Coverage (count) %"),
            alt_intro=_("Bar chart of the coverage by count:"), none_text=none))
    if data.units:
        cov = data.coverage
        charts["commitment_6"].append(report_charts.share_bars(
            [f"{unit.name} ({unit.code})" for unit in data.units],
            [cov.by_unit[unit.id].share for unit in data.units],
            title=_("Coverage per unit"), axis=_("Coverage (count) %"),
            alt_intro=_("Bar chart of the coverage per unit, by count:"), none_text=none))
    return charts


def _indicator_rows(report: Report, section: str) -> list[tuple[str, str, str]]:
    data = report.figures
    total = data.coverage.total
    follow = data.follow_up
    grants, with_commitment, mean = data.commitments
    if section == "commitment_2":
        return [
            (_("Agreements decided in the period"), _count(total.total),
             _("Contracts and grants whose award date or date of the grant notice lies in "
               "the period, in every unit, drafts included.")),
            (_("Of these in scope"), _count(total.in_scope),
             _("Awarded and not exempt from the clause.")),
            (_("Coverage (count) %"), _percent(total.share),
             _("In scope and compliant as of the day of the figures, divided by those in "
               "scope. Compliant: clause attached, declaration in place, no check overdue, "
               "no open breach (the one definition every list and figure uses).")),
            (_("Coverage (value) %"), _percent(total.value_share),
             _("The same, weighted by the net value of contracts and the amount of grants.")),
            (_("Checks completed"), "—" if follow is None else _count(follow.checks_done),
             _("Compliance checks of these agreements with a recorded outcome (a number of "
               "checks, not of agreements).")),
        ]
    if section == "commitment_3":
        linked = "—" if follow is None else _count(follow.complaints)
        return [(_("Complaints linked to agreements"), linked,
                 _("Complaints the anti-discrimination office linked to one of these "
                   "agreements by its case reference; counts only, no case details."))]
    if section == "commitment_5":
        return [
            (_("Clause attached"), _count(total.attached),
             _("In scope, and the record links a published clause version.")),
            (_("Clause verified in the signed copy"), _count(total.verified),
             _("In scope, and the clause was found as published in the signed copy returned "
               "(a confirmed OCR reading or an approved manual check included).")),
            (_("Declaration return rate %"), _percent(data.declarations.return_rate),
             _("Declarations returned, divided by declarations requested.")),
            (_("Returned on time %"), _percent(data.declarations.on_time_rate),
             _("Declarations returned by their due day, divided by declarations requested.")),
            (_("Exempt"), _count(total.exempt),
             _("Awards exempted from the clause with an approved reason (four eyes).")),
        ]
    if section == "commitment_6":
        kinds = data.coverage.by_unit_kind
        enterprises = kinds.get("eigenbetrieb")
        departments = kinds.get("department")
        rows = [
            (_("Coverage in the municipal enterprises (count) %"),
             _percent(enterprises.share if enterprises else None),
             _("As coverage, for the agreements of the Eigenbetriebe.")),
            (_("Coverage in the departments (count) %"),
             _percent(departments.share if departments else None),
             _("As coverage, for the agreements of the city's departments.")),
            (_("Not compliant"), _count(total.non_compliant),
             _("In scope and not compliant as of the day of the figures.")),
        ]
        if follow is not None:
            rows.append((_("Exclusions in force"), _count(len(follow.exclusions)),
                         _("Exclusions from awards decided after a confirmed breach, in force "
                           "on the day of the figures.")))
        return rows
    share = metrics.percent(with_commitment, grants)
    return [
        (_("Grants in scope"), _count(grants),
         _("Grants in scope decided in the period.")),
        (_("Grants with a voluntary self-commitment"), _count(with_commitment),
         _("Grants whose grantee made a voluntary self-commitment (a quality criterion, "
           "never a condition).")),
        (_("Share %"), _percent(share), _("Grants with a self-commitment, divided by grants "
                                          "in scope.")),
        (_("Mean score of the self-commitments"),
         "—" if mean is None else f"{mean}".replace(".", ","),
         _("The mean of the scores recorded with the self-commitments.")),
    ]


def _method(layout: Layout, report: Report) -> None:
    data = report.figures
    document = layout.document
    document.add_heading(_("Method"), 1)
    anchor = report.anchor
    rows = [
        (_("Data as of"), _day(data.day)),
        (_("Period"), _("agreements decided from %(start)s to %(end)s",
                        start=_day(data.period.start), end=_day(data.period.end))),
        (_("Scope"), _("all units of the city: %(departments)d departments and %(enterprises)d "
                       "municipal enterprises",
                       departments=sum(1 for u in data.units if u.kind == "department"),
                       enterprises=sum(1 for u in data.units if u.kind == "eigenbetrieb"))),
        (_("Generated"), _("%(moment)s (Europe/Berlin)", moment=_berlin(report.generated_at))),
        (_("Audit trail anchor"),
         _("none (empty audit trail)") if anchor is None else
         _("event %(id)d (below, as ID:HASH)", id=anchor[0])),
    ]
    grid(document, [_("Item"), _("Value")], [list(r) for r in rows], [False, False],
         layout.width_pt)
    if anchor is not None:
        line = document.add_paragraph().add_run(f"{anchor[0]}:{anchor[1]}")
        line.font.name = "Courier New"
        line.font.size = Pt(8)
    for text in (
        _("Every figure is counted from the register by the application's one definition of "
          "an agreement's compliance state, the same that every list, the overview and its "
          "exports use; the report adds no computation of its own. An agreement counts in "
          "the period when its award date (contracts) or the date of its grant notice "
          "(grants) lies in it; its state is taken as of the day of the figures, the "
          "period's last day or, for a running period, the day the report was made."),
        _("Values are net of VAT for contracts (the basis of contractual penalties too) and "
          "the amount granted for grants. Shares are rounded to one decimal; a share without "
          "a base is shown as —."),
        _("The anchor names the newest event of the tamper-evident audit trail when the "
          "figures were computed: anyone can later check with “clause-tracker audit verify "
          "--anchor ID:HASH” that the records these figures were computed from have not been "
          "changed behind the trail's back."),
        _("Complaints are counted only: the anti-discrimination office keeps the case files."),
    ):
        document.add_paragraph(text)


def render_docx(data: Figures | Report, generated_at: datetime | None = None) -> bytes:
    report = data if isinstance(data, Report) else Report(data)
    if generated_at is not None:
        report.generated_at = generated_at
    figures_ = report.figures
    with force_locale("de"):
        tables = {t.key: t for t in figure_tables(figures_)}
        document = Document()
        normal = document.styles["Normal"]
        normal.font.name = "Arial"
        normal.font.size = Pt(10)
        set_language(document, "de-DE")
        drop_thumbnail(document)
        title = _("ECCAR report: anti-racism clause in contracts and grants")
        period_text = _("%(start)s to %(end)s", start=_day(figures_.period.start),
                        end=_day(figures_.period.end))
        document.core_properties.title = title
        document.core_properties.author = _("City of Jena")
        layout = Layout(document, title, period_text)
        section = document.sections[0]
        header = section.header.paragraphs[0]
        header.text = _("City of Jena · Report to ECCAR · %(period)s", period=period_text)
        header.runs[0].font.size = Pt(8)
        page_footer(section.footer.paragraphs[0],
                    _("Data as of %(day)s", day=_day(figures_.day)),
                    page=_("Page"), of=_("of"))
        for run in section.footer.paragraphs[0].runs:
            run.font.size = Pt(8)

        document.add_heading(title, 0)
        document.add_paragraph(_("City of Jena · agreements decided from %(start)s to "
                                 "%(end)s · compliance as of %(day)s",
                                 start=_day(figures_.period.start),
                                 end=_day(figures_.period.end), day=_day(figures_.day)))
        document.add_paragraph(_("Generated on %(moment)s (Europe/Berlin). Figures are "
                                 "aggregates; no personal data and no complaint details.",
                                 moment=_berlin(report.generated_at)))
        document.add_heading(str(narratives.SECTION_LABELS["summary"]), 1)
        _narrative(layout, report.texts.get("summary"))
        charts = _charts(report, tables)
        for key, table_keys in SECTIONS:
            document.add_heading(str(narratives.SECTION_LABELS[key]), 1)
            _narrative(layout, report.texts.get(key))
            _indicators(layout, _indicator_rows(report, key))
            for chart in charts.get(key, []):
                _picture(layout, chart)
            for table_key in table_keys:
                if table_key in tables:
                    _table(layout, tables[table_key], report.clause_labels)
        _method(layout, report)
        out = io.BytesIO()
        document.save(out)
        return out.getvalue()
