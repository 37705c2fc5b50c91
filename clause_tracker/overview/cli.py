"""`clause-tracker report eccar …`."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click
from flask.cli import AppGroup

from clause_tracker.clock import today
from clause_tracker.overview import eccar as report
from clause_tracker.overview.metrics import Period

report_cli = AppGroup("report", help="Reports.")


@report_cli.command("eccar")
@click.option("--from", "start", required=True, type=click.DateTime(["%Y-%m-%d"]),
              help="First day of the period (YYYY-MM-DD).")
@click.option("--to", "end", required=True, type=click.DateTime(["%Y-%m-%d"]),
              help="Last day of the period (YYYY-MM-DD).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the DOCX report here.")
@click.option("--json", "as_json", is_flag=True, help="Print the raw figures as JSON.")
def eccar(start: datetime, end: datetime, output: Path | None, as_json: bool) -> None:
    """The biennial ECCAR report for agreements decided in the period."""
    if start > end:
        raise click.BadParameter("--to must not be before --from")
    if output is None and not as_json:
        raise click.UsageError("give -o FILE.docx, --json, or both")
    data = report.figures(Period(start.date(), end.date()), today())
    if output is not None:
        output.write_bytes(report.render_docx(data))
        click.echo(f"wrote {output}", err=as_json)
    if as_json:
        click.echo(json.dumps(report.raw(data), ensure_ascii=False, indent=2, sort_keys=True))
