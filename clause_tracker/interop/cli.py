"""`clause-tracker export ocds -o FILE [--records]` and `clause-tracker import eforms FILE…`."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from clause_tracker.agreements.importing import ImportFileError
from clause_tracker.clock import utcnow
from clause_tracker.extensions import db
from clause_tracker.interop import ocds
from clause_tracker.interop.eforms import import_notice
from clause_tracker.orgunits.models import OrgUnit

export_cli = AppGroup("export", help="Export the register in open standards.")


@export_cli.command("ocds")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False,
              path_type=Path), help="The JSON file to write ('-': standard output).")
@click.option("--records", is_flag=True, help="A record package instead of a release package.")
@click.option("--uri", default="", help="The package's uri (where it is published).")
def export_ocds(output: Path, records: bool, uri: str) -> None:
    """Every contract as an OCDS 1.1 release package (or record package)."""
    build = ocds.record_package if records else ocds.release_package
    package = build(None, published=utcnow(), uri=uri or f"file:{output.name}")
    count = len(package["records"] if records else package["releases"])
    if count == 0:  # the OCDS schemas ask for at least one release or record in a package
        raise click.ClickException("no contracts to export: an OCDS package holds at least one")
    text = json.dumps(package, ensure_ascii=False, indent=2) + "\n"
    if str(output) == "-":
        click.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    click.echo(f"wrote {count} {'record' if records else 'release'}(s) to {output}")


@click.command("eforms")
@click.argument("paths", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every notice, import nothing.")
@click.option("--unit", "unit_code", help="Import only for this unit, e.g. KIJ.")
def import_eforms(paths: tuple[Path, ...], dry_run: bool, unit_code: str | None) -> None:
    """Import the concluded contracts of eForms contract award notices (UBL XML).

    Every notice is checked first; if any is refused or has an error, nothing is imported.
    Then each notice is imported in one transaction; contracts already registered are
    skipped, so importing again adds nothing."""
    unit = None
    if unit_code:
        unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == unit_code))
        if unit is None:
            raise click.ClickException(f"no unit with code {unit_code!r}")
    files = [(path.name, path.read_bytes()) for path in paths]
    failed = 0
    for name, data in files:
        try:
            result = import_notice(data, name, dry_run=True, unit=unit,
                                   restrict_unit=unit is not None)
        except ImportFileError as exc:
            db.session.rollback()
            click.echo(f"{name}: refused: {exc}", err=True)
            failed += 1
            continue
        for error in result.report.errors:
            click.echo(f"{name}: line {error.line}, {error.column}: {error.message}", err=True)
        failed += bool(result.report.errors)
    if failed:
        raise click.ClickException(f"{failed} of {len(files)} notice(s) refused or with "
                                   "errors: nothing was imported")
    created = skipped = 0
    for name, data in files:
        try:
            result = import_notice(data, name, dry_run=dry_run, unit=unit,
                                   restrict_unit=unit is not None)
        except ImportFileError as exc:  # changed meanwhile (a reference registered)
            db.session.rollback()
            raise click.ClickException(f"{name}: {exc}") from exc
        notice = result.notice
        created += len(result.report.created)
        skipped += len(result.report.skipped)
        verb = "would import" if dry_run else "imported"
        click.echo(f"{name}: {notice.notice_type if notice else ''} "
                   f"{notice.subtype if notice else ''}: {verb} "
                   f"{len(result.report.created)} contract(s), "
                   f"{len(result.report.skipped)} already registered")
        for note in notice.notes if notice else []:
            click.echo(f"  {note}")
    click.echo(f"{'would import' if dry_run else 'imported'} {created} contract(s) from "
               f"{len(files)} notice(s); {skipped} already registered (skipped)")
