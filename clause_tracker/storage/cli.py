"""`clause-tracker storage …`."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from clause_tracker.storage import BACKENDS, backend_name
from clause_tracker.storage.migration import migrate

storage_cli = AppGroup("storage", help="Stored files (uploads and issued documents).")

EXIT_CORRUPT = 1  # some file did not match its SHA-256 and was not moved


@storage_cli.command("migrate")
@click.option("--to", "to", required=True, type=click.Choice(BACKENDS),
              help="The backend to move the files into (the other one is read).")
@click.option("--remove-source", is_flag=True,
              help="Delete each file from the source once its copy has been verified.")
def storage_migrate(to: str, remove_source: bool) -> None:
    """Copy every stored file into the other backend, checking every SHA-256. Safe to run
    again; set STORAGE_BACKEND to the target afterwards."""
    report = migrate(to, remove_source=remove_source)
    click.echo(f"{report.source} → {report.target}: {report.examined} examined, "
               f"{report.copied} copied ({report.bytes_copied} bytes), {report.present} "
               f"already there and verified, {report.removed} removed from "
               f"{report.source}, {len(report.corrupt)} refused")
    for problem in report.corrupt:
        click.echo(f"REFUSED {problem}: does not match its SHA-256; not moved — restore "
                   f"it from a backup", err=True)
    if backend_name() != to:
        click.echo(f"Set CLAUSE_TRACKER_STORAGE_BACKEND={to} to use the moved files.")
    if report.corrupt:
        raise SystemExit(EXIT_CORRUPT)
