"""`clause-tracker scheduler …`: the scheduler process and each of its jobs once."""

from __future__ import annotations

import logging
import os
import sys
from datetime import datetime

import click
from flask import current_app
from flask.cli import AppGroup

from clause_tracker.audit import anchors
from clause_tracker.checks import notifications, sweep
from clause_tracker.clock import today
from clause_tracker.inbox import digest
from clause_tracker.jobs import anchoring, heartbeat
from clause_tracker.jobs.scheduler import run
from clause_tracker.overview import snapshots

scheduler_cli = AppGroup("scheduler", help="The compliance scheduler (its own process).")


def _logging() -> None:
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@scheduler_cli.command("run")
def run_scheduler() -> None:
    """Run the scheduler: leader (sweep, dispatch, overview, heartbeat) or standby.

    Exit codes: 0 stopped (SIGTERM/SIGINT), 70 unexpected error, 75 the database stayed
    unreachable longer than SCHEDULER_GIVE_UP_SECONDS. Restart on any non-zero code."""
    _logging()
    # Its connections show as the scheduler's in pg_stat_activity (libpq reads PGAPPNAME).
    os.environ.setdefault("PGAPPNAME", "clause-tracker scheduler")
    sys.exit(run(current_app._get_current_object()))  # type: ignore[attr-defined]  # the LocalProxy's


@scheduler_cli.command("sweep")
@click.option("--on", "on", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="The day to sweep for (default: today).")
def sweep_now(on: datetime | None) -> None:
    """Run one sweep now (for cron, systemd timers and tests)."""
    def progress(step: str, rows: int) -> None:
        click.echo(f"step {step}: {rows}")
        sys.stdout.flush()

    report = sweep.run(on.date() if on else None, progress=progress)
    click.echo(f"sweep {report.sweep_id} for {report.run_on}: {report.total} changes")
    click.echo(f"digest: {digest.queue(report.run_on)} message(s) of Meine Aufgaben queued")


@scheduler_cli.command("dispatch")
def dispatch_now() -> None:
    """Bundle queued reminders and send the e-mails that are due."""
    report = notifications.dispatch()
    click.echo(f"bundled {report.bundled}, sent {report.sent}, retried {report.retried}, "
               f"failed {report.failed}, interrupted {report.interrupted}")


@scheduler_cli.command("overview")
def overview_now() -> None:
    """Compute the overview's figures of today's records, unless stored already."""
    click.echo(f"overview: {snapshots.refresh(today())} views computed")


@scheduler_cli.command("audit")
def audit_now() -> None:
    """The nightly check of the audit trail now: chain and newest anchor, the result
    recorded, a new anchor appended to the anchor log and mailed (AUDIT_ANCHOR_MAIL_TO)."""
    done = anchoring.nightly_check()
    if not done.result.ok:
        problem = done.result.problem
        assert problem is not None
        click.echo(f"TAMPERED: {problem.message} ({problem.kind}); no anchor written, "
                   f"{done.mailed} alarm(s) queued", err=True)
        raise SystemExit(1)
    click.echo(f"ok: {done.result.checked} events, chain intact; anchor {done.anchor} "
               f"appended to {anchors.log_path()}, {done.mailed} e-mail(s) queued")


@scheduler_cli.command("status")
def status() -> None:
    """The leader's heartbeat."""
    beat = heartbeat.status(heartbeat.stale_after(current_app.config))
    click.echo(f"scheduler: {beat.status}" + (
        f", leader {beat.holder}, last beat {beat.age_seconds}s ago" if beat.holder else ""))
