"""`clause-tracker import contracts|grants FILE [--dry-run] [--unit CODE]` (at once, in
this process) and `clause-tracker import run-queued` (the jobs queued by the web)."""

from __future__ import annotations

import os
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from clause_tracker.agreements import import_jobs
from clause_tracker.agreements.importing import ImportFileError, import_file
from clause_tracker.extensions import db
from clause_tracker.orgunits.models import OrgUnit

import_cli = AppGroup("import", help="Import contracts or grants from CSV or XLSX.")


def _run(kind: str, path: Path, dry_run: bool, unit_code: str | None) -> None:

    unit = None
    if unit_code:
        unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == unit_code))
        if unit is None:
            raise click.ClickException(f"no unit with code {unit_code!r}")
    try:
        report = import_file(kind, path.read_bytes(), path.name, dry_run=dry_run, unit=unit)
    except ImportFileError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    if report.errors:
        for error in report.errors:
            click.echo(f"line {error.line}, column {error.column}: {error.message}", err=True)
        raise click.ClickException(
            f"{len(report.errors)} error(s) in {report.rows} row(s): nothing was imported")
    for warning in report.warnings:
        click.echo(f"warning: line {warning.line}, column {warning.column}: {warning.message}",
                   err=True)
    verb = "would import" if dry_run else "imported"
    click.echo(f"{verb} {len(report.created)} {kind}(s); {len(report.skipped)} already "
               f"registered (skipped); {report.rows} row(s) read")


@import_cli.command("contracts")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every row, import nothing.")
@click.option("--unit", "unit_code", help="Unit for rows without a unit column, e.g. KIJ.")
def import_contracts(path: Path, dry_run: bool, unit_code: str | None) -> None:
    """Import contracts; all rows or none. Known references are skipped."""
    _run("contract", path, dry_run, unit_code)


@import_cli.command("grants")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every row, import nothing.")
@click.option("--unit", "unit_code", help="Unit for rows without a unit column, e.g. FDJB.")
def import_grants(path: Path, dry_run: bool, unit_code: str | None) -> None:
    """Import grants; all rows or none. Known references are skipped."""
    _run("grant", path, dry_run, unit_code)


@import_cli.command("run-queued")
@click.option("--limit", default=100, show_default=True, help="At most this many jobs.")
def run_queued(limit: int) -> None:
    """Run the imports queued by the web (the scheduler process does so every few seconds)."""
    done = import_jobs.run_pending(f"cli:{os.getpid()}", limit)
    click.echo(f"{done} import job(s) run")
