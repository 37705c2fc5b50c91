"""Thin views: the overview, its exports, the list exports and the ECCAR report."""

from __future__ import annotations

from datetime import date

from dateutil.relativedelta import relativedelta
from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from clause_tracker.clock import today
from clause_tracker.documents.pdf_export import PDF_MIMETYPE, PdfUnavailable, to_pdfa
from clause_tracker.i18n import format_day
from clause_tracker.overview import bp, exports, narratives, service
from clause_tracker.overview import eccar as report
from clause_tracker.overview.forms import NarrativeForm
from clause_tracker.overview.metrics import Period
from clause_tracker.permissions import Permission, requires
from clause_tracker.registry.queries import ListFilter
from clause_tracker.request_args import parse_day
from clause_tracker.request_chips import chips, clear_url

FORMATS = ("csv", "xlsx")


def period_from_args() -> Period:
    return Period(parse_day(request.args.get("from")), parse_day(request.args.get("to")))


def download(body, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _stamp(day: date) -> str:
    return day.strftime("%Y-%m-%d")


@bp.route("/")
@requires(Permission.OVERVIEW_READ)
def index():
    period, day = period_from_args(), today()
    fmt = request.args.get("format", "")
    if fmt and fmt not in FORMATS:
        abort(404)
    page = service.overview(current_user, period, day)
    if fmt == "csv":
        return download(exports.tables_csv(page.tables), exports.CSV_MIMETYPE,
                        f"uebersicht-{_stamp(day)}.csv")
    if fmt == "xlsx":
        return download(exports.tables_xlsx(page.tables), exports.XLSX_MIMETYPE,
                        f"uebersicht-{_stamp(day)}.xlsx")
    args = {k: v for k, v in request.args.items() if v}
    # A day that cannot be read is named at its field (and left out of the figures).
    bad = {key: _("Please enter a date like 05/03/2026.") for key in ("from", "to")
           if args.get(key) and parse_day(args[key]) is None}
    labels = {"from": _l("Decided from"), "to": _l("Decided until")}
    shown = {"from": lambda _raw: format_day(period.start) if period.start else _raw,
             "to": lambda _raw: format_day(period.end) if period.end else _raw}
    return render_template("overview/index.html", day=day, period=period, page=page,
                           args=args, chips=chips("overview.index", args, labels, shown),
                           clear=clear_url("overview.index", args, keep=()), bad=bad)


@bp.route("/agreements.<fmt>")
@requires(Permission.REGISTRY_READ)
def agreements_export(fmt: str):
    """The registry list with the filters it was showing, every row (not one page)."""
    if fmt not in FORMATS:
        abort(404)
    flt, day = ListFilter.from_args(request.args), today()
    name = f"vertraege-und-zuwendungen-{_stamp(day)}.{fmt}"
    if fmt == "csv":
        # Built whole (about 15 MB at 100,000 rows): a streamed body would need the request
        # context after the view returns, which ties the database session to the response.
        return download("".join(exports.list_csv(current_user, flt, day)),
                        exports.CSV_MIMETYPE, name)
    return download(exports.list_xlsx(current_user, flt, day), exports.XLSX_MIMETYPE, name)


def _report_period() -> tuple[Period | None, str | None]:
    """The period the request names, or an error message; (None, None) when none is named."""
    start, end = parse_day(request.args.get("from")), parse_day(request.args.get("to"))
    if "from" not in request.args and "to" not in request.args:
        return None, None
    if not start or not end:
        return None, _("Enter the first and the last day of the period.")
    if start > end:
        return None, _("The period must not end before it starts.")
    return Period(start, end), None


@bp.route("/eccar")
@requires(Permission.ECCAR_REPORT)
def eccar():
    """The form; with a valid period, the report itself (DOCX, or PDF/A with format=pdf)."""
    period, error = _report_period()
    fmt = request.args.get("format", "docx")
    if fmt not in ("docx", "pdf"):
        abort(404)
    if period is not None:
        assert period.start is not None and period.end is not None
        document = report.render_docx(report.build(period, today()))
        name = f"eccar-bericht-{_stamp(period.start)}-{_stamp(period.end)}"
        if fmt == "docx":
            return download(document, report.DOCX_MIMETYPE, f"{name}.docx")
        try:
            return download(to_pdfa(document), PDF_MIMETYPE, f"{name}.pdf")
        except PdfUnavailable as exc:
            error = str(exc)
    default_end = today()
    default_start = default_end.replace(day=1) - relativedelta(years=2)
    start = period.start if period else parse_day(request.args.get("from"))
    end = period.end if period else parse_day(request.args.get("to"))
    return render_template("overview/eccar.html", error=error,
                           start=start or default_start, end=end or default_end), \
        400 if error and period is None else (503 if error else 200)


@bp.route("/eccar/texts", methods=["GET", "POST"])
@requires(Permission.ECCAR_NARRATIVE)
def eccar_texts():
    """The steering group's texts for one period's report, one per section."""
    period, error = _report_period()
    if period is None:
        flash(error or _("Enter the first and the last day of the period."), "error")
        return redirect(url_for("overview.eccar"))
    form = NarrativeForm()
    if form.validate_on_submit():
        written = {section: getattr(form, section).data or "" for section in narratives.SECTIONS}
        changed = narratives.save(period, written, current_user)
        flash(_("%(count)d texts saved.", count=len(changed)) if changed
              else _("Nothing was changed."), "success" if changed else "info")
        assert period.start is not None and period.end is not None
        return redirect(url_for("overview.eccar_texts") +
                        f"?from={period.start.isoformat()}&to={period.end.isoformat()}")
    if request.method == "GET":
        for section, text in narratives.texts(period).items():
            getattr(form, section).data = text
    return render_template("overview/eccar_texts.html", form=form, period=period,
                           labels=narratives.SECTION_LABELS), 400 if form.errors else 200
