"""`clause-tracker report eccar …`."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click
from flask.cli import AppGroup

from clause_tracker.clock import today
from clause_tracker.documents.pdf_export import PdfUnavailable, to_pdfa
from clause_tracker.overview import eccar as report
from clause_tracker.overview.metrics import Period

report_cli = AppGroup("report", help="Reports.")


@report_cli.command("eccar")
@click.option("--from", "start", required=True, type=click.DateTime(["%Y-%m-%d"]),
              help="First day of the period (YYYY-MM-DD).")
@click.option("--to", "end", required=True, type=click.DateTime(["%Y-%m-%d"]),
              help="Last day of the period (YYYY-MM-DD).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the report here: FILE.docx, or FILE.pdf for PDF/A-2b (LibreOffice).")
@click.option("--json", "as_json", is_flag=True, help="Print the raw figures as JSON.")
def eccar(start: datetime, end: datetime, output: Path | None, as_json: bool) -> None:
    """The biennial ECCAR report for agreements decided in the period."""
    if start > end:
        raise click.BadParameter("--to must not be before --from")
    if output is None and not as_json:
        raise click.UsageError("give -o FILE.docx (or FILE.pdf), --json, or both")
    built = report.build(Period(start.date(), end.date()), today())
    if output is not None:
        document = report.render_docx(built)
        if output.suffix.lower() == ".pdf":
            try:
                document = to_pdfa(document)
            except PdfUnavailable as exc:
                raise click.ClickException(str(exc)) from exc
        output.write_bytes(document)
        click.echo(f"wrote {output}", err=as_json)
    if as_json:
        click.echo(json.dumps(report.raw(built.figures), ensure_ascii=False, indent=2,
                              sort_keys=True))
