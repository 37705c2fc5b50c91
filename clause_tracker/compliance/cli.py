"""`clause-tracker scheduler …` and `clause-tracker retention …`."""

from __future__ import annotations

import logging
import sys
from datetime import date, datetime

import click
from flask import current_app
from flask.cli import AppGroup

scheduler_cli = AppGroup("scheduler", help="The compliance scheduler (its own process).")
retention_cli = AppGroup("retention", help="Records past their retention period.")


def _logging() -> None:
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@scheduler_cli.command("run")
def run_scheduler() -> None:
    """Run the scheduler: leader (sweep, dispatch, overview, heartbeat) or standby."""
    from clause_tracker.compliance.scheduler import run

    _logging()
    sys.exit(run(current_app._get_current_object()))


@scheduler_cli.command("sweep")
@click.option("--on", "on", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="The day to sweep for (default: today).")
def sweep_now(on: datetime | None) -> None:
    """Run one sweep now (for cron, systemd timers and tests)."""
    from clause_tracker.compliance import sweep

    def progress(step: str, rows: int) -> None:
        click.echo(f"step {step}: {rows}")
        sys.stdout.flush()

    report = sweep.run(on.date() if on else None, progress=progress)
    click.echo(f"sweep {report.sweep_id} for {report.run_on}: {report.total} changes")


@scheduler_cli.command("dispatch")
def dispatch_now() -> None:
    """Bundle queued reminders and send the e-mails that are due."""
    from clause_tracker.compliance import notifications

    report = notifications.dispatch()
    click.echo(f"bundled {report.bundled}, sent {report.sent}, retried {report.retried}, "
               f"failed {report.failed}, interrupted {report.interrupted}")


@scheduler_cli.command("overview")
def overview_now() -> None:
    """Compute the overview's figures of today's records, unless stored already."""
    from clause_tracker.compliance.state import today
    from clause_tracker.overview import snapshots

    click.echo(f"overview: {snapshots.refresh(today())} views computed")


@scheduler_cli.command("status")
def status() -> None:
    """The leader's heartbeat."""
    from clause_tracker.compliance import heartbeat

    beat = heartbeat.status(int(current_app.config["SCHEDULER_STALE_SECONDS"]))
    click.echo(f"scheduler: {beat.status}" + (
        f", leader {beat.holder}, last beat {beat.age_seconds}s ago" if beat.holder else ""))


@retention_cli.command("list")
def retention_list() -> None:
    """Agreements past their retention period, not yet purged."""
    from clause_tracker.compliance import retention

    rows = retention.due_for_deletion()
    for row in rows:
        click.echo(f"{row.id}\t{row.kind}\t{row.reference}\tretention ended {row.retain_until}")
    click.echo(f"{len(rows)} record(s) past retention")


@retention_cli.command("purge")
@click.argument("agreement_ids", nargs=-1, type=int, required=True)
@click.option("--yes", is_flag=True, help="Confirm the erasure of personal data.")
def retention_purge(agreement_ids: tuple[int, ...], yes: bool) -> None:
    """Erase the personal data of the given agreements (past retention only)."""
    from clause_tracker.compliance import retention

    if not yes:
        raise click.ClickException("add --yes to confirm the erasure")
    for agreement_id in agreement_ids:
        try:
            retention.purge(agreement_id, None, today=date.today())
        except retention.RetentionError as exc:
            raise click.ClickException(f"{agreement_id}: {exc}") from exc
        click.echo(f"purged {agreement_id}")
