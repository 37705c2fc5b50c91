"""`clause-tracker retention …`."""

from __future__ import annotations

from datetime import date

import click
from flask.cli import AppGroup

from clause_tracker.retention import services as retention

retention_cli = AppGroup("retention", help="Records past their retention period.")


@retention_cli.command("list")
def retention_list() -> None:
    """Agreements past their retention period, not yet purged."""
    rows = retention.due_for_deletion()
    for row in rows:
        click.echo(f"{row.id}\t{row.kind}\t{row.reference}\tretention ended {row.retain_until}")
    click.echo(f"{len(rows)} record(s) past retention")


@retention_cli.command("purge")
@click.argument("agreement_ids", nargs=-1, type=int, required=True)
@click.option("--yes", is_flag=True, help="Confirm the erasure of personal data.")
def retention_purge(agreement_ids: tuple[int, ...], yes: bool) -> None:
    """Erase the personal data of the given agreements (past retention only)."""
    if not yes:
        raise click.ClickException("add --yes to confirm the erasure")
    for agreement_id in agreement_ids:
        try:
            retention.purge(agreement_id, None, today=date.today())
        except retention.RetentionError as exc:
            raise click.ClickException(f"{agreement_id}: {exc}") from exc
        click.echo(f"purged {agreement_id}")
